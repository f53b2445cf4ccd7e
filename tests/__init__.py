from . import test_end_to_end
