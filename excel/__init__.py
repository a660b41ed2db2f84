"""Excel workbook export and ODBC access."""
