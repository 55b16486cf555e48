def pytest_configure(config):
    # sim-board tests open sim:// through the real link (fast with speed=); registered here
    # until pyproject.toml lists the marker
    config.addinivalue_line("markers", "sim: runs against the simulated board through the serial link")
