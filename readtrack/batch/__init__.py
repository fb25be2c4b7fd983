"""Many runs in worker processes: the run request (`request`), the executor seam (`executor`), this
machine's fork-server pool (`pool`, its worker process `forkserver`), batches of plugins × seeds (`groups`),
sweeps (`sweep`) and calibration (`calibrate`: a plugin's train stage on many seeds, made its record)."""
