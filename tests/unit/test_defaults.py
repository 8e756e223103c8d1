# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every default is declared once; the places that cannot import it are checked against it here.

The declarations: the Field tables (plugin_utils/model/settings.py for fabric_bgp
and the fabric-wide variables, plugin_utils/model/schema.py for the per-host
variables), module_utils/_health_spec.py for health checks, and
module_utils/_contract.py for what host modules need too (DEFAULT_STATE_DIR,
DEFAULT_VIP_INTERFACE). Python imports them; what cannot (YAML argument
specs, role defaults, doc fragments, module documentation, prose in docs/)
must say the same, or a test here fails and names the place.
The tables generated from the declarations (docs/data-model.md, docs/health.md's
key list) are checked by scripts/data-model.py --check.
"""

from __future__ import annotations

import importlib
import importlib.util
import re

import pytest
import yaml

from ansible_collections.anycast.fabric.plugins.module_utils._contract import DEFAULT_STATE_DIR, DEFAULT_VIP_INTERFACE
from ansible_collections.anycast.fabric.plugins.module_utils._health_spec import DAMPING_DEFAULTS, TIMER_DEFAULTS
from ansible_collections.anycast.fabric.plugins.plugin_utils.model import model, schema, settings
from conftest import REPO

ROLES = sorted(p.name for p in (REPO / "roles").iterdir() if (p / "meta" / "argument_specs.yml").is_file())
STATE_DIR_MODULES = ("drain_state", "loopback_vip", "ipvs")


def yaml_file(path):
    with open(path) as handle:
        return yaml.safe_load(handle) or {}


def role_defaults(role):
    path = REPO / "roles" / role / "defaults" / "main.yml"
    return yaml_file(path) if path.is_file() else {}


def argument_specs(role):
    """{(entry point, option): spec} of ROLE."""
    specs = yaml_file(REPO / "roles" / role / "meta" / "argument_specs.yml")["argument_specs"]
    return dict(((entry, option), spec) for entry, body in specs.items() for option, spec in (body.get("options") or {}).items())


def documentation(kind, name):
    module = importlib.import_module("ansible_collections.anycast.fabric.plugins.%s.%s" % (kind, name))
    return yaml.safe_load(module.DOCUMENTATION)


def doc(name):
    return (REPO / "docs" / name).read_text()


# The declarations themselves -----------------------------------------------------


def test_the_model_reads_the_declared_defaults():
    host = schema.HOST_TABLE.defaults()
    assert host["fabric_state_dir"] == DEFAULT_STATE_DIR
    assert host["fabric_vip_interface"] == DEFAULT_VIP_INTERFACE
    assert model.FABRIC_DEFAULTS is settings.FABRIC_DEFAULTS


@pytest.mark.parametrize("module", STATE_DIR_MODULES)
def test_host_modules_take_state_dir_from_the_contract_and_document_it_in_the_fragment(module):
    text = (REPO / "plugins" / "modules" / ("%s.py" % module)).read_text()
    assert 'default="/var/lib' not in text and "DEFAULT_STATE_DIR" in text
    assert "anycast.fabric.state_dir" in documentation("modules", module)["extends_documentation_fragment"]
    assert "state_dir" not in documentation("modules", module)["options"]  # only the fragment documents it


# Places that cannot import: checked here ------------------------------------------------


def test_the_state_dir_doc_fragment_says_the_declared_default():
    fragment = importlib.import_module("ansible_collections.anycast.fabric.plugins.doc_fragments.state_dir").ModuleDocFragment
    assert yaml.safe_load(fragment.DOCUMENTATION)["options"]["state_dir"]["default"] == DEFAULT_STATE_DIR


def test_loopback_vip_documents_the_declared_vip_interface():
    assert documentation("modules", "loopback_vip")["options"]["interface"]["default"] == DEFAULT_VIP_INTERFACE


def test_every_record_path_in_the_docs_lies_under_the_declared_state_dir():
    texts = {p.name: p.read_text() for p in (REPO / "docs").glob("*.md")}
    texts.update({p.name: p.read_text() for p in (REPO / "plugins" / "modules").glob("*.py")})
    seen = 0
    for name, text in texts.items():
        for path in re.findall(r"/var/lib/anycast[\w./<>-]*", text):
            seen += 1
            assert path == DEFAULT_STATE_DIR or path.startswith(DEFAULT_STATE_DIR + "/"), (name, path)
    assert seen


@pytest.mark.parametrize("role", ROLES)
def test_role_argument_specs_give_the_defaults_the_roles_set(role):
    """Each option's default in meta/argument_specs.yml is the value in defaults/main.yml (its own role's, or the
    role that owns the variable: tor documents routing_session_wait); a default set from another variable
    (a template) is left out of the spec, except where the spec states the template's fallback (checked below)."""
    own = role_defaults(role)
    owners = dict((name, role_defaults(name)) for name in ROLES)
    templated = dict((var, value) for var, value in own.items() if isinstance(value, str) and "{{" in value)
    for (entry, option), spec in argument_specs(role).items():
        where = "roles/%s/meta/argument_specs.yml %s.%s" % (role, entry, option)
        source = own if option in own else next((d for d in owners.values() if option in d), None)
        if "default" not in spec:
            assert option not in own or option in templated or own[option] is None, "%s: no default, defaults/main.yml sets %r" % (where, own[option])
            continue
        assert source is not None, "%s: a default, but no role sets the variable" % where
        if option in templated:
            continue
        assert spec["default"] == source[option], "%s: %r, defaults/main.yml: %r" % (where, spec["default"], source[option])
    declared = set(option for _entry, option in argument_specs(role)) | UNDECLARED_ON_PURPOSE.get(role, set())
    assert set(own) <= declared, "roles/%s/defaults/main.yml sets undeclared variables: %s" % (role, sorted(set(own) - declared))


# Role variables kept out of the argument spec on purpose: Ansible templates
# every option before validating it and prints its own error when the
# template fails, which can quote the BGP key (issue 22). role_inputs checks them.
UNDECLARED_ON_PURPOSE = {"routing": {"routing_bgp_password"}}


def test_kube_proxy_falls_back_to_the_declared_vip_interface():
    value = role_defaults("kube_proxy")["kube_proxy_vip_interface"]
    assert re.fullmatch(r"\{\{ fabric_vip_interface \| default\('([^']*)'\) \}\}", value).group(1) == DEFAULT_VIP_INTERFACE
    for (_entry, option), spec in argument_specs("kube_proxy").items():
        if option == "kube_proxy_vip_interface":
            assert spec["default"] == DEFAULT_VIP_INTERFACE


def test_the_routing_role_and_routing_config_wait_as_long_for_sessions():
    wait = role_defaults("routing")["routing_session_wait"]
    assert documentation("modules", "routing_config")["options"]["session_wait"]["default"] == wait


def test_the_resilient_ecmp_agent_and_the_tor_role_default_alike():
    spec = importlib.util.spec_from_file_location("anycast_resilient_ecmp", REPO / "roles" / "programs" / "files" / "anycast-resilient-ecmp.py")
    agent = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(agent)
    tor = role_defaults("tor")
    for key in ("table", "rule_priority", "buckets", "idle_timer", "unbalanced_timer", "stale_sec"):
        assert agent.DEFAULTS[key] == tor["tor_resilient_ecmp_" + key], key


def test_prose_in_the_docs_states_the_declared_bgp_timers():
    bgp = settings.BGP_DEFAULTS
    rendering, gobgp = doc("rendering.md"), doc("gobgp.md")
    assert "`keepalive_time` and `hold_time` default to %d s and %d s." % (bgp["keepalive_time"], bgp["hold_time"]) in rendering
    assert "`maximum-paths` is `ecmp_paths` (default %d;" % bgp["ecmp_paths"] in rendering
    assert "It is on\nby default, with %d ms × %d." % (bgp["bfd_interval_ms"], bgp["bfd_multiplier"]) in rendering
    assert bgp["bfd"] is True and bgp["graceful_restart"] is False and "## Graceful restart: off by default" in rendering
    assert "(keepalive %d s,\nhold %d s by default)" % (bgp["keepalive_time"], bgp["hold_time"]) in gobgp
    assert "`fabric_bgp.hold_time` (%d s by default)" % bgp["hold_time"] in gobgp


def markdown_rows(text, heading):
    """The rows of the first table after HEADING: lists of cells."""
    section = text.split(heading, 1)[1]
    rows = []
    for line in section.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not set("".join(cells)) <= set("-: "):
                rows.append(cells)
        elif rows:
            break
    return rows[1:]


def test_health_docs_tables_state_the_declared_timers_and_damping():
    health = doc("health.md")
    timers = dict((row[0].strip("`"), yaml.safe_load(row[2])) for row in markdown_rows(health, "### Timers"))
    assert timers == TIMER_DEFAULTS
    damping = dict((row[0].strip("`"), yaml.safe_load(row[1].strip("`"))) for row in markdown_rows(health, "### Flap damping"))
    assert damping == DAMPING_DEFAULTS
