"""The shared core of smart-meter: reading model, settings, subjects, storage, local stack."""
