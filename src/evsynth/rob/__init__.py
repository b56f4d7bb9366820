"""Risk of bias: RoB 2 and ROBINS-I judgements, tables and robvis-style plots."""
