"""Everything between Hydra's composed config and the objects it builds: schema, resolvers, validation."""
