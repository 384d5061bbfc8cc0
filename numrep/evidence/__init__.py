"""Evidence beyond complaints: operators' call records, their sketches, and reporter trust."""
