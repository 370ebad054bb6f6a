"""`[slack]` config and the environment: routing per brand and severity, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from stormwatch.alerts.slack_config import load_slack_config
from stormwatch.exceptions import ConfigError

TOML = """
[stormwatch]
false_alarms_per_month = 1.0

[slack]
channel = "#social"
update_interval_minutes = 20

[[slack.routes]]
brands = ["Acme"]
min_severity = "high"
channel = "#acme-crisis"

[[slack.routes]]
min_severity = "critical"
channel = "#exec"
"""


def test_routes_and_environment(tmp_path: Path) -> None:
    path = tmp_path / "stormwatch.toml"
    path.write_text(TOML)
    config = load_slack_config(path, env={"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_API_URL": "http://x"})
    assert config.enabled and config.api_url == "http://x/"
    assert config.channel_for("acme", "high") == "#acme-crisis"
    assert config.channel_for("acme", "medium") == "#social"
    assert config.channel_for("other", "critical") == "#exec"
    assert config.update_interval_minutes == 20
    env = {"STORMWATCH_SLACK_CHANNEL": "#override", "STORMWATCH_CONFIG": str(path)}
    config = load_slack_config(None, env=env)
    assert not config.enabled and config.channel_for("x", "low") == "#override"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[slack]\nchanel = '#x'\n", "unknown setting 'chanel'"),
        ("[[slack.routes]]\nbrands = ['a']\n", r"slack.routes\[0\].channel is required"),
        ("[[slack.routes]]\nchannel = '#a'\nmin_severity = 'huge'\n", "min_severity must be"),
        ("[slack]\nupdate_interval_minutes = -1\n", "must be >= 0"),
        ("[slack]\nchart = 'yes'\n", "chart must be true or false"),
    ],
)
def test_errors_name_the_setting(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError, match=message):
        load_slack_config(path, env={})
