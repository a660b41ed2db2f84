"""Fault injection with ground truth: what a real fleet sends, and a record of every fault."""

from inject.faults.config import FaultConfig, ProfileName
from inject.faults.detectable import DetectionLimits
from inject.faults.ground_truth import (
    FaultLog,
    FaultRecord,
    GroundTruthWriter,
    iso_utc,
    read_ground_truth,
)
from inject.faults.injector import FaultInjector
from inject.faults.kinds import MALFORMED_KINDS, FaultKind
from inject.faults.sending import Emission, RawMessage

__all__ = [
    "MALFORMED_KINDS",
    "DetectionLimits",
    "Emission",
    "FaultConfig",
    "FaultInjector",
    "FaultKind",
    "FaultLog",
    "FaultRecord",
    "GroundTruthWriter",
    "ProfileName",
    "RawMessage",
    "iso_utc",
    "read_ground_truth",
]
