"""Event Services' views, one module per audience or capability."""
