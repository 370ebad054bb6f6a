"""Evaluation: the scenario generator and suite, scenario and NAB scoring, charts, reports."""
