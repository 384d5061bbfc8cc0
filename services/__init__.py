"""gRPC services of numrep: thin servicers over the ``numrep`` domain package."""
