"""Typed job specs: schema, YAML loading with ``extends:`` and overrides, checks.

Public API::

    load_job(path, overrides=()) -> JobSpec
    save_job(spec, path); dump_job(spec) -> str
    spec_to_dict(spec) -> dict; spec_from_dict(tree, source="<dict>") -> JobSpec
    validate_job(spec) -> JobSpec
    SpecError (a ValueError naming file, dotted key and problem)

Every field is documented in docs/jobs.md.
"""
from distlm.config.errors import SpecError
from distlm.config.loader import dump_job, job_from_dict, load_job, load_raw, save_job, spec_from_dict, spec_to_dict
from distlm.config.schema import (DataSpec, JobSpec, LossSpec, ModelSpec, OptimSpec, RunSpec,
                                  ScalingSpec, ScheduleSpec, SchedulerSpec, SelfLabelSpec,
                                  SourceSpec, StorageSpec, TelemetrySpec, TrainSpec, WeightingSpec)
from distlm.config.schema_data import KNOWN_FORMATS
from distlm.config.validate import problems, validate_job

__all__ = [
    "SpecError", "job_from_dict", "load_job", "load_raw", "save_job", "dump_job", "spec_from_dict", "spec_to_dict",
    "validate_job", "problems", "KNOWN_FORMATS",
    "JobSpec", "DataSpec", "SourceSpec", "StorageSpec", "ModelSpec", "LossSpec", "WeightingSpec",
    "ScheduleSpec", "SelfLabelSpec", "OptimSpec", "SchedulerSpec", "TrainSpec", "ScalingSpec",
    "RunSpec", "TelemetrySpec",
]
