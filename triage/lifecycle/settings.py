"""Settings of the lifecycle commands (retrain, promote, rollback, models)."""

from __future__ import annotations

from pydantic import Field

from services.classifier.settings import ModelPaths, ModelStoreSettings
from shared.settings import DatabaseSettings


class LifecycleSettings(DatabaseSettings, ModelPaths, ModelStoreSettings):
    promote_max_drop_type_f1: float = Field(
        0.02, ge=0, le=1, description="largest fall of type macro-F1 a promotion accepts"
    )
    promote_max_drop_urgency_f1: float = Field(
        0.02, ge=0, le=1, description="largest fall of urgency macro-F1 a promotion accepts"
    )
    promote_max_drop_critical_recall: float = Field(
        0.0, ge=0, le=1, description="largest fall of recall on 'critical' a promotion accepts"
    )
    retrain_holdout_fraction: float = Field(
        0.3,
        gt=0,
        lt=1,
        description="share of the most recent human labels held out to compare models",
    )
