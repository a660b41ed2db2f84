"""Model training: voltage-anomaly classifier, consumption forecasts."""
