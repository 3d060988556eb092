"""Tests of the network connectors against local replay servers."""
