"""Time series: dilated causal CNN forecasting (TCN / WaveNet, conditional and quantile),
FCN, ResNet and InceptionTime classification of UCR/UEA sets, Spectral Residual and SR-CNN
anomaly detection, and the TCN paper's adding and copy-memory tasks.

Public names load lazily, so reading a config (``convsuite.suites.timeseries.config``) does
not start Keras: the CLI picks the backend first.
"""

from convsuite.common.lazy import suite_exports

_EXPORTS = {
    # models
    "tcn_forecaster": "models",
    "tcn_sequence_model": "models",
    "fcn_classifier": "models",
    "resnet_classifier": "models",
    "inception_time_classifier": "models",
    "receptive_field": "models",
    "ForecastHead": "models",
    "PinballLoss": "models",
    "StreamingForecaster": "streaming",
    # anomaly detection
    "spectral_residual": "anomaly",
    "sr_scores": "anomaly",
    "srcnn": "anomaly",
    "srcnn_scores": "anomaly",
    "inject_anomalies": "anomaly",
    "point_f1": "anomaly",
    "adjusted_f1": "anomaly",
    "choose_threshold": "anomaly",
    # classification
    "PUBLISHED_ACCURACY": "ucr",
    "published_accuracy": "ucr",
    "average_probabilities": "tasks.classify",
    # data
    "Series": "data",
    "ForecastWindows": "data",
    "ClassificationSet": "data",
    "load_series": "data",
    "read_table": "data",
    "load_ucr": "data",
    "make_forecast_windows": "data",
    "with_calendar_features": "data",
    "adding_problem": "data",
    "copy_memory": "data",
    # baselines
    "seasonal_naive": "baselines",
    "LinearAR": "baselines",
    "mase": "baselines",
    "nearest_neighbour_accuracy": "baselines",
    # config and training
    "TimeSeriesExperiment": "config",
    "TimeSeriesModelConfig": "config",
    "TimeSeriesDataConfig": "config",
    "forecast": "tasks.forecast",
    "recursive_forecast": "tasks.forecast",
    "prepare_forecast": "tasks.forecast",
    # global forecasting across a collection of series
    "Collection": "collection",
    "read_collection": "collection",
    "load_collection": "collection",
    "default_lengths": "collection",
    "calendar_features": "collection",
    "GlobalTCNForecaster": "tasks.global_forecast",
}

suite_exports(__name__, _EXPORTS, globals())
