from . import test_file_formats
from . import test_file_transport
