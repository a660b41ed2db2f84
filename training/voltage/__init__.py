"""The voltage-event classifier: will a voltage event start at this meter within N hours?

- :mod:`~training.voltage.source`: readings and the episodes the streaming app stored;
- :mod:`~training.voltage.features`: backward-looking meter-hour features, in Spark;
- :mod:`~training.voltage.labels`: events of at least 10 min, N hours ahead;
- :mod:`~training.voltage.split`: the purged 60/20/20 time split;
- :mod:`~training.voltage.models`, :mod:`~training.voltage.compare`,
  :mod:`~training.voltage.metrics`: the classifiers, their thresholds and scores;
- :mod:`~training.voltage.registry`, :mod:`~training.voltage.report`: versioned folders;
- :mod:`~training.voltage.predictions`: scores of the latest hour, and where they go.
"""
