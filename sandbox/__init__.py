"""The sandbox: a stand-in for Massar with synthetic data, a REST API and fault injection."""
