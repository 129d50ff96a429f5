"""The visitors' HTML pages, one module per concept."""
