"""Everything between Hydra's composed config and the objects it builds: schema, resolvers, validation."""

# where genlab's own Hydra configs live, inside the installed package (a user's come on top with --config-dir)
CONFIG_MODULE = "genlab.conf"
