// One CQL query through JDBC (com.ing.data:cassandra-jdbc-wrapper), its rows printed
// tab-separated with a header line: what a SQL tool does over the same driver.
//
//   java -cp "$(ls jars/*.jar | paste -sd:)" excel/jdbc/CqlQuery.java \
//       'jdbc:cassandra://127.0.0.1:9042/smart_meter?localdatacenter=datacenter1' \
//       "SELECT meter_id, ts, import_wh FROM readings_by_meter_day WHERE meter_id = 'M1' AND day = '2024-01-01'"

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

public class CqlQuery {
    public static void main(String[] args) throws SQLException {
        if (args.length != 2) {
            System.err.println("usage: CqlQuery JDBC_URL QUERY");
            System.exit(2);
        }
        try (Connection connection = DriverManager.getConnection(args[0]);
             Statement statement = connection.createStatement();
             ResultSet rows = statement.executeQuery(args[1])) {
            ResultSetMetaData meta = rows.getMetaData();
            List<String> names = new ArrayList<>();
            for (int i = 1; i <= meta.getColumnCount(); i++) {
                names.add(meta.getColumnLabel(i));
            }
            System.out.println(String.join("\t", names));
            while (rows.next()) {
                List<String> values = new ArrayList<>();
                for (int i = 1; i <= meta.getColumnCount(); i++) {
                    values.add(String.valueOf(rows.getObject(i)));
                }
                System.out.println(String.join("\t", values));
            }
        }
    }
}
