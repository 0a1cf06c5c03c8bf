"""Call-flow diagrams (ivr/core/diagram.py, `ivr diagram`): Mermaid text drawn from the flows, kept up to date."""

import textwrap

import pytest
from click.testing import CliRunner

from ivr.cli import main
from ivr.core.diagram import DEFAULT_OUTPUT, FLOWS_DIR, diagrams, escape, generate, node_id, render_document
from ivr.core.flows import load_flow

MAIN = """
defaults:
  on_fail: goodbye
nodes:
  start:
    kind: menu
    prompt: main.menu
    options:
      "1": {next: hours, say: {en: [hours]}}
      "2": {next: check, set_lang: es}
      "*": report
    on_silence: goodbye
  hours:
    kind: say
    prompt: info.hours
    next: check
  check:
    kind: branch
    when: is_open
    then: agents
    else: goodbye
  agents:
    kind: queue
    prompt: rep.connecting
    on_fail: dept
  dept:
    kind: transfer
    to: department
    on_no_answer: goodbye
    on_answer: start
  goodbye:
    kind: hangup
    prompt: common.goodbye
"""

CASES = """
nodes:
  report:
    kind: input
    prompt: report.location_ask
    action: take_location
    results: {ok: pick, invalid: "@retry", unknown: "@retry"}
  pick:
    kind: menu
    prompt: [report.type_intro, "@items"]
    directory: service_types
    item_prompt: report.type_item
    directory_next: done
    options:
      "#": start
    on_fail: done
  done:
    kind: action
    action: submit_case
    results: {created: goodbye}
  tape:
    kind: record
    prompt: report.record_ask
    action: take_recording
    results: {ok: done}
  retape:
    kind: record
    prompt: report.record_ask
    action: take_recording
    results: {ok: done, invalid: "@retry"}
"""


def small_flow(tmp_path):
    """Two flow files that lead into each other, loaded as the app would."""
    flows = tmp_path / "flows"
    flows.mkdir(parents=True)
    (flows / "main.yaml").write_text(textwrap.dedent(MAIN))
    (flows / "cases.yaml").write_text(textwrap.dedent(CASES))
    return load_flow(flows)


def edge(origin: str, label: str, target: str, dashed: bool = False) -> str:
    """The Mermaid line for one labelled arrow."""
    arrow = "-.->" if dashed else "-->"
    return f'    {node_id(origin)} {arrow}|"{escape(label)}"| {node_id(target)}'


def lines(text: str) -> list[str]:
    return text.splitlines()


def test_the_committed_document_is_up_to_date():
    assert DEFAULT_OUTPUT.is_file(), "docs/call-flows.md is missing: run `ivr diagram`"
    assert DEFAULT_OUTPUT.read_text(encoding="utf-8") == generate(FLOWS_DIR), (
        "docs/call-flows.md is out of date with flows/*.yaml: run `ivr diagram`")


def test_one_diagram_per_flow_file_in_file_order(tmp_path):
    charts = diagrams(small_flow(tmp_path))
    assert list(charts) == ["flows/cases.yaml", "flows/main.yaml"]
    assert all(chart.startswith("flowchart TD\n") for chart in charts.values())


def test_edges_are_labelled_with_what_leads_there(tmp_path):
    main_chart = lines(diagrams(small_flow(tmp_path))["flows/main.yaml"])
    for expected in [
        edge("start", "1", "hours"),
        edge("start", "2 → es", "check"),
        edge("start", "*", "report"),
        edge("start", "silence", "goodbye"),
        edge("hours", "next", "check"),
        edge("check", "yes: is_open", "agents"),
        edge("check", "no", "goodbye"),
        edge("agents", "fail", "dept"),
        edge("dept", "no answer", "goodbye"),
        edge("dept", "answered", "start"),
    ]:
        assert expected in main_chart, expected
    assert edge("start", "fail", "goodbye", dashed=True) in main_chart  # no on_fail: the flow default


def test_retry_results_loop_back_and_directories_lead_on(tmp_path):
    cases_chart = lines(diagrams(small_flow(tmp_path))["flows/cases.yaml"])
    for expected in [
        edge("report", "ok", "pick"),
        edge("report", "invalid, unknown", "report"),  # both @retry: one self-loop naming each result
        edge("report", "fail", "goodbye", dashed=True),
        edge("pick", "#", "start"),
        edge("pick", "service_types entry, fail", "done"),  # same target, same style: one arrow
        edge("done", "created", "goodbye"),
    ]:
        assert expected in cases_chart, expected
    assert edge("retape", "invalid", "retape") in cases_chart and edge("retape", "fail", "goodbye", True) in cases_chart
    assert not any(line.startswith(f"    {node_id('tape')} -.->") for line in cases_chart)  # no @retry: never fails
    assert not any(node_id("@retry") in line for line in cases_chart)
    assert not any(line.startswith(f"    {node_id('done')} -.->") for line in cases_chart)  # actions don't retry


def test_nodes_are_shaped_by_kind(tmp_path):
    charts = diagrams(small_flow(tmp_path))
    main_chart, cases_chart = lines(charts["flows/main.yaml"]), lines(charts["flows/cases.yaml"])
    for expected in [
        '    n_start[/"start<br/>menu"/]',
        '    n_hours["hours<br/>say"]',
        '    n_check{"check<br/>branch"}',
        '    n_agents[["agents<br/>queue"]]',
        '    n_dept[["dept<br/>transfer"]]',
        '    n_goodbye(["goodbye<br/>hangup"])',
    ]:
        assert expected in main_chart, expected
    for expected in ['    n_report[/"report<br/>input"/]', '    n_tape[/"tape<br/>record"/]',
                     '    n_done["done<br/>action"]']:
        assert expected in cases_chart, expected


def test_nodes_of_other_files_are_drawn_tagged_with_their_file(tmp_path):
    charts = diagrams(small_flow(tmp_path))
    main_chart, cases_chart = lines(charts["flows/main.yaml"]), lines(charts["flows/cases.yaml"])
    assert '    n_report[/"report (flows/cases.yaml)<br/>input"/]' in main_chart
    assert '    n_start[/"start (flows/main.yaml)<br/>menu"/]' in cases_chart
    assert '    n_goodbye(["goodbye (flows/main.yaml)<br/>hangup"])' in cases_chart
    assert "    class n_report elsewhere" in main_chart
    assert "    class n_goodbye,n_start elsewhere" in cases_chart  # in order of first arrow
    # each node is declared once per diagram, and every arrow's ends are declared
    for chart in (main_chart, cases_chart):
        declared = [line.split("[")[0].split("{")[0].split("(")[0].strip() for line in chart
                    if line.startswith("    n_") and "|" not in line]
        assert len(declared) == len(set(declared))
        for line in chart:
            if "|" in line:
                origin, target = line.split()[0], line.split()[-1]
                assert origin in declared and target in declared, line


def test_the_output_is_deterministic(tmp_path):
    first = render_document(small_flow(tmp_path / "a"))
    assert render_document(small_flow(tmp_path / "b")) == first
    main_chart = diagrams(small_flow(tmp_path / "c"))["flows/main.yaml"]
    starts = [line for line in lines(main_chart) if line.startswith("    n_start -")]
    assert starts == [edge("start", "1", "hours"), edge("start", "2 → es", "check"), edge("start", "*", "report"),
                      edge("start", "silence", "goodbye"), edge("start", "fail", "goodbye", dashed=True)]


@pytest.mark.parametrize(("text", "escaped"), [
    ('say "hi"', "say #quot;hi#quot;"), ("*", "#42;"), ("#", "#35;"), ("@retry", "#64;retry"),
    ("a|b", "a#124;b"), ("<b>", "#60;b#62;"), ("plain_name", "plain_name"),
])
def test_labels_are_escaped(text, escaped):
    assert escape(text) == escaped


def test_ids_are_safe_and_distinct():
    assert node_id("end") == "n_end"  # `end` alone is a Mermaid keyword
    odd = node_id("odd name")
    assert odd.isidentifier() and odd != node_id("odd_name")


def test_the_document_explains_and_fences_each_diagram(tmp_path):
    document = render_document(small_flow(tmp_path))
    assert "do not edit by hand" in document and "`ivr diagram`" in document
    assert "## flows/main.yaml" in document and "## flows/cases.yaml" in document
    assert document.count("```mermaid\nflowchart TD\n") == 2


# ---- the command ---------------------------------------------------------------------------------

def test_check_fails_on_a_missing_or_stale_file_and_passes_on_a_fresh_one(tmp_path):
    runner = CliRunner()
    output = tmp_path / "docs" / "call-flows.md"
    missing = runner.invoke(main, ["diagram", "--check", "--output", str(output)])
    assert missing.exit_code == 1 and "is missing" in missing.output and "ivr diagram" in missing.output
    assert not output.exists()  # --check writes nothing

    written = runner.invoke(main, ["diagram", "--output", str(output)])
    assert written.exit_code == 0, written.output
    assert output.read_text(encoding="utf-8") == generate(FLOWS_DIR)
    fresh = runner.invoke(main, ["diagram", "--check", "--output", str(output)])
    assert fresh.exit_code == 0, fresh.output

    output.write_text(generate(FLOWS_DIR).replace("no answer", "busy"), encoding="utf-8")
    stale = runner.invoke(main, ["diagram", "--check", "--output", str(output)])
    assert stale.exit_code == 1
    assert "is out of date: run `ivr diagram" in stale.output
    assert "busy" in output.read_text(encoding="utf-8")  # still stale: --check did not rewrite it
