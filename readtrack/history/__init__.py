"""What runs gave, kept: the runs database (`runs`, `sweeps`), numbers over seeds (`spread`), comparisons,
coverage per device and each plugin's calibration record (`calibration`) and whether it is fresh
(`calibration_state`)."""
