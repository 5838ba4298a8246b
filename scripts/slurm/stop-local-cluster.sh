#!/usr/bin/env bash
# Stops what start-local-cluster.sh started (slurmd, slurmctld, munged).
pkill -x slurmd || true
pkill -x slurmctld || true
pkill -x munged || true
