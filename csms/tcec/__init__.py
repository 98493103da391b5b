"""T/CEC 102 information exchange with monitoring platforms: pure core."""
