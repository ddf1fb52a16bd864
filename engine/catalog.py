"""Catalog: load processes/ (BPMN + DMN) and forms/, validate everything, and build content-hashed bundles.

A bundle is one deployable process version: the exact sources it needs and its parsed spec as JSON.
Imports SpiffWorkflow and lxml, never the database.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree
from SpiffWorkflow.bpmn.parser import BpmnValidator
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.exceptions import SpiffWorkflowException

from . import serializer
from .bpmn_checks import check_bpmn_document, check_dmn_document, decision_ids
from .bpmn_parser import CAMUNDA_NS, ModelerParser
from .errors import DefinitionProblem, ProcessDefinitionError
from .form_loader import load_form
from .forms import FormDefinition

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_VALIDATOR: BpmnValidator | None = None


@dataclass(frozen=True)
class SourceFile:
    """One deployable file: `name` is its path relative to the project (e.g. `processes/x.bpmn`)."""

    name: str
    text: str

    @property
    def kind(self) -> str:
        return self.name.rsplit(".", 1)[-1].lower()


@dataclass(frozen=True)
class ProcessBundle:
    """A deployable process version before it is stored."""

    key: str
    name: str
    content_hash: str
    sources: dict[str, str]
    spec_json: str
    start_form_id: str | None
    form_ids: tuple[str, ...]
    candidate_groups: tuple[str, ...] = ()
    starter_groups: tuple[str, ...] = ()
    # Process extension property `restrictedTo`: only these roles may see the process's cases (SPEC §13).
    restricted_to: tuple[str, ...] = ()


@dataclass
class Catalog:
    """Everything a deploy registers: one bundle per executable process, and every form."""

    bundles: list[ProcessBundle] = field(default_factory=list)
    forms: dict[str, FormDefinition] = field(default_factory=dict)


def read_sources(processes_dir: Path, forms_dir: Path) -> list[SourceFile]:
    """Read *.bpmn, *.dmn and *.form files; names are kept relative to each folder's parent."""
    files: list[SourceFile] = []
    for folder, patterns in ((processes_dir, ("*.bpmn", "*.dmn")), (forms_dir, ("*.form",))):
        if not folder.is_dir():
            raise ProcessDefinitionError([DefinitionProblem(str(folder), None, "folder not found")])
        for pattern in patterns:
            for path in sorted(folder.glob(pattern)):
                files.append(SourceFile(f"{folder.name}/{path.name}", path.read_text(encoding="utf-8")))
    return files


def load_catalog(processes_dir: Path, forms_dir: Path, roles: Iterable[str]) -> Catalog:
    """Read and validate both folders; raise ProcessDefinitionError listing every problem found."""
    return build_catalog(read_sources(processes_dir, forms_dir), roles)


def build_catalog(files: list[SourceFile], roles: Iterable[str]) -> Catalog:
    """Validate the files together and build one bundle per executable process."""
    problems: list[DefinitionProblem] = []
    forms = _load_forms([f for f in files if f.kind == "form"], problems)
    bpmn_docs = _parse_xml([f for f in files if f.kind == "bpmn"], problems, xsd=True)
    dmn_docs = _parse_xml([f for f in files if f.kind == "dmn"], problems, xsd=False)
    decisions = _index_decisions(dmn_docs, problems)
    processes = _index_processes(bpmn_docs, problems)
    for name, doc in dmn_docs.items():
        problems.extend(check_dmn_document(name, doc))
    for name, doc in bpmn_docs.items():
        problems.extend(check_bpmn_document(name, doc, forms=set(forms), decisions=set(decisions),
                                            processes=set(processes), roles=set(roles)))
        problems.extend(_check_restricted_to(name, doc, set(roles)))
    if problems:
        raise ProcessDefinitionError(problems)
    catalog = Catalog(forms=forms)
    for key, file_name in sorted(processes.items()):
        if _is_executable(bpmn_docs[file_name], key):
            catalog.bundles.append(_bundle(key, files, bpmn_docs, dmn_docs, processes, decisions, forms, problems))
    if problems:
        raise ProcessDefinitionError(problems)
    return catalog


def _load_forms(files: list[SourceFile], problems: list[DefinitionProblem]) -> dict[str, FormDefinition]:
    forms: dict[str, FormDefinition] = {}
    for source in files:
        try:
            form = load_form(source.text, source.name)
        except ProcessDefinitionError as exc:
            problems.extend(exc.problems)
            continue
        if form.id in forms:
            problems.append(DefinitionProblem(source.name, form.id,
                                              f"form id {form.id!r} is also used by {forms[form.id].file_name}; "
                                              "give each form its own id"))
        forms[form.id] = form
    return forms


def _validator() -> BpmnValidator:
    global _VALIDATOR
    if _VALIDATOR is None:
        _VALIDATOR = BpmnValidator()
    return _VALIDATOR


def _parse_xml(files: list[SourceFile], problems: list[DefinitionProblem], *, xsd: bool) -> dict[str, etree._Element]:
    docs: dict[str, etree._Element] = {}
    for source in files:
        try:
            doc = etree.fromstring(source.text.encode("utf-8"), parser=etree.XMLParser(resolve_entities=False))
        except etree.XMLSyntaxError as exc:
            problems.append(DefinitionProblem(source.name, None, f"not well-formed XML: {exc.msg}", exc.lineno))
            continue
        if xsd:
            try:
                _validator().validate(doc, filename=source.name)
            except ValidationException as exc:
                problems.append(DefinitionProblem(source.name, None, f"BPMN schema: {exc.args[0]}", exc.line_number))
                continue
        docs[source.name] = doc
    return docs


def _index_decisions(dmn_docs: dict[str, etree._Element], problems: list[DefinitionProblem]) -> dict[str, str]:
    decisions: dict[str, str] = {}
    for name, doc in dmn_docs.items():
        for decision_id in decision_ids(doc):
            if decision_id in decisions:
                problems.append(DefinitionProblem(name, decision_id,
                                                  f"decision id also defined in {decisions[decision_id]}"))
            decisions[decision_id] = name
    return decisions


def _index_processes(bpmn_docs: dict[str, etree._Element], problems: list[DefinitionProblem]) -> dict[str, str]:
    processes: dict[str, str] = {}
    for name, doc in bpmn_docs.items():
        for process in doc.iterfind(f"{{{BPMN_NS}}}process"):
            pid = process.get("id")
            if pid in processes:
                problems.append(DefinitionProblem(name, pid, f"process id also defined in {processes[pid]}",
                                                  process.sourceline))
            processes[pid] = name
    return processes


def _is_executable(doc: etree._Element, process_id: str) -> bool:
    process = doc.find(f"{{{BPMN_NS}}}process[@id='{process_id}']")
    return process is not None and process.get("isExecutable") == "true"


def _bundle(key: str, files: list[SourceFile], bpmn_docs: dict[str, etree._Element],
            dmn_docs: dict[str, etree._Element], processes: dict[str, str], decisions: dict[str, str],
            forms: dict[str, FormDefinition], problems: list[DefinitionProblem]) -> ProcessBundle:
    texts = {f.name: f.text for f in files}
    parser = ModelerParser()
    for name in dmn_docs:
        parser.add_dmn_str(texts[name].encode("utf-8"), filename=name)
    for name in bpmn_docs:
        parser.add_bpmn_str(texts[name].encode("utf-8"), filename=name)
    try:
        spec = parser.get_spec(key)
        subprocess_specs = parser.get_subprocess_specs(key)
    except (ValidationException, SpiffWorkflowException) as exc:
        problems.append(DefinitionProblem(getattr(exc, "file_name", None) or processes[key],
                                          getattr(exc, "id", None), str(exc.args[0]) if exc.args else str(exc),
                                          getattr(exc, "line_number", None)))
        return ProcessBundle(key, key, "", {}, "", None, ())
    used_processes = {key, *subprocess_specs}
    bpmn_names = sorted({processes[p] for p in used_processes if p in processes})
    refs = _references(bpmn_docs, bpmn_names)
    dmn_names = sorted({decisions[d] for d in refs["decisionRef"] if d in decisions})
    form_ids = sorted(f for f in refs["formRef"] if f in forms)
    sources = {n: texts[n] for n in bpmn_names + dmn_names}
    sources.update({forms[f].file_name: forms[f].source for f in form_ids})
    digest = hashlib.sha256()
    for name in sorted(sources):
        digest.update(name.encode() + b"\0" + sources[name].encode() + b"\0")
    return ProcessBundle(key=key, name=spec.description or key, content_hash=digest.hexdigest(), sources=sources,
                         spec_json=serializer.dump_specs(spec, subprocess_specs),
                         start_form_id=_start_form(bpmn_docs[processes[key]], key), form_ids=tuple(form_ids),
                         candidate_groups=tuple(sorted(refs["candidateGroups"])),
                         starter_groups=_starter_groups(bpmn_docs[processes[key]], key),
                         restricted_to=restricted_roles(bpmn_docs[processes[key]], key))


def _references(bpmn_docs: dict[str, etree._Element], names: list[str]) -> dict[str, set[str]]:
    refs: dict[str, set[str]] = {"decisionRef": set(), "formRef": set(), "candidateGroups": set()}
    for name in names:
        for element in bpmn_docs[name].iter():
            for attr, found in refs.items():
                value = element.get(f"{{{CAMUNDA_NS}}}{attr}")
                if value:
                    found.update(v.strip() for v in value.split(",") if v.strip())
    return refs


def _starter_groups(doc: etree._Element, process_id: str) -> tuple[str, ...]:
    process = doc.find(f"{{{BPMN_NS}}}process[@id='{process_id}']")
    value = process.get(f"{{{CAMUNDA_NS}}}candidateStarterGroups") if process is not None else None
    return tuple(sorted(g.strip() for g in (value or "").split(",") if g.strip()))


def _start_form(doc: etree._Element, process_id: str) -> str | None:
    process = doc.find(f"{{{BPMN_NS}}}process[@id='{process_id}']")
    for start in process.iterfind(f"{{{BPMN_NS}}}startEvent") if process is not None else ():
        if len(start) == 0 or start.find(f"{{{BPMN_NS}}}messageEventDefinition") is None:
            form = start.get(f"{{{CAMUNDA_NS}}}formRef")
            if form:
                return form
    return None


RESTRICTED_PROPERTY = "restrictedTo"
_RESTRICTED_CACHE: dict[tuple[str, str], tuple[str, ...]] = {}


def restricted_roles(doc: etree._Element, process_id: str) -> tuple[str, ...]:
    """The roles in the process's `restrictedTo` extension property (Modeler: process → Extension properties)."""
    process = doc.find(f"{{{BPMN_NS}}}process[@id='{process_id}']")
    if process is None:
        return ()
    for prop in process.iterfind(f"{{{BPMN_NS}}}extensionElements/{{{CAMUNDA_NS}}}properties/{{{CAMUNDA_NS}}}property"):
        if prop.get("name") == RESTRICTED_PROPERTY:
            return tuple(sorted({r.strip() for r in (prop.get("value") or "").split(",") if r.strip()}))
    return ()


def restricted_roles_of(key: str, content_hash: str, sources: dict[str, str]) -> tuple[str, ...]:
    """`restricted_roles` of a deployed version, read from its pinned sources (cached per content hash)."""
    cached = _RESTRICTED_CACHE.get((key, content_hash))
    if cached is not None:
        return cached
    found: tuple[str, ...] = ()
    for name, text in sources.items():
        if name.endswith(".bpmn") and f'id="{key}"' in text:
            doc = etree.fromstring(text.encode("utf-8"), parser=etree.XMLParser(resolve_entities=False))
            found = restricted_roles(doc, key) or found
    _RESTRICTED_CACHE[(key, content_hash)] = found
    return found


def _check_restricted_to(name: str, doc: etree._Element, roles: set[str]) -> list[DefinitionProblem]:
    problems = []
    for process in doc.iterfind(f"{{{BPMN_NS}}}process"):
        for role in restricted_roles(doc, process.get("id") or ""):
            if role not in roles:
                problems.append(DefinitionProblem(name, process.get("id"), f"{RESTRICTED_PROPERTY} role {role!r} is "
                                                  f"not a known role (roles: {', '.join(sorted(roles))})",
                                                  process.sourceline))
    return problems
