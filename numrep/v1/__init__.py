"""Generated gRPC code for numrep.v1 (do not edit; run scripts/gen_protos.py)."""
