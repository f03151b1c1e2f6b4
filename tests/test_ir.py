"""The IR contract: the serialized form round-trips and is stable, the printer
shows the whole program, and the validator rejects ill-formed hand-made IR with
a message that names the problem and a loc that points at it.

The ill-formed programs are built with `dataclasses.replace` from one small
model (tests/fixtures/ir/small.c), so each test changes exactly one thing.
"""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
import subprocess
import sys

import pytest

from mkverify import frontend, ir
from mkverify.diag import IRError, SourceLoc

FIXTURES = Path(__file__).parent / "fixtures"
SMALL = FIXTURES / "ir" / "small.c"
BUGGY = FIXTURES / "cli" / "buggy.c"

LOC = SourceLoc("hand-made.c", 7, 3)


@pytest.fixture(scope="module")
def small() -> ir.Program:
    return frontend.load(SMALL)


# ---------------------------------------------------------------- helpers


def fn_index(p: ir.Program, name: str) -> int:
    return next(k for k, f in enumerate(p.functions) if f.name == name)


def with_function(p: ir.Program, name: str, **changes) -> ir.Program:
    """`p` with function `name` replaced by a copy that has `changes`."""
    k = fn_index(p, name)
    fns = list(p.functions)
    fns[k] = dataclasses.replace(fns[k], **changes)
    return dataclasses.replace(p, functions=tuple(fns))


def with_instr(p: ir.Program, name: str, pc: int, instr) -> ir.Program:
    """`p` with instruction `pc` of function `name` replaced by `instr`."""
    body = list(p.function(name).body)
    body[pc] = instr
    return with_function(p, name, body=tuple(body))


def first_pc(p: ir.Program, name: str, kind) -> int:
    return next(pc for pc, i in enumerate(p.function(name).body) if isinstance(i, kind))


def rejected(p: ir.Program) -> IRError:
    with pytest.raises(IRError) as info:
        ir.validate(p)
    return info.value


# ---------------------------------------------------------------- serial form


def test_fixture_program_is_valid_and_uses_every_instruction_kind_the_tests_rely_on(small):
    assert ir.validate(small) is small
    kinds = {type(i) for f in small.functions for i in f.body}
    assert {ir.Set, ir.Load, ir.Store, ir.Call, ir.Prim, ir.Branch, ir.Jump, ir.Ret} <= kinds


@pytest.mark.parametrize("model", [SMALL, BUGGY], ids=lambda p: p.name)
def test_serialized_form_round_trips_to_an_equal_program(model):
    p = frontend.load(model)
    data = ir.to_json(p)
    back = ir.from_json(data)
    assert back == p
    assert ir.to_json(back) == data
    # the serialized form is plain JSON: it survives dumps/loads unchanged
    assert ir.from_json(json.loads(json.dumps(data))) == p


def test_serialized_form_survives_json_text_and_still_validates(small):
    back = ir.from_json(json.loads(json.dumps(ir.to_json(small), sort_keys=True)))
    assert ir.validate(back) == small
    assert ir.print_program(back) == ir.print_program(small)


def test_serialized_form_names_every_node_type(small):
    data = ir.to_json(small)
    assert data["node"] == "Program"
    assert data["bounds"]["node"] == "Bounds"
    assert {f["node"] for f in data["functions"]} == {"Function"}
    assert {f["name"] for f in data["functions"]} == {f.name for f in small.functions}


def _ir_json(model: Path, hash_seed: str) -> bytes:
    env = dict(os.environ, PYTHONHASHSEED=hash_seed)
    r = subprocess.run([sys.executable, "-m", "mkverify", "ir", "--json", str(model)],
                       capture_output=True, cwd=model.parent, env=env, timeout=60)
    assert r.returncode == 0, r.stderr.decode()
    assert b"Traceback" not in r.stderr
    return r.stdout


def test_ir_json_output_is_byte_identical_across_runs(monkeypatch):
    # two processes with different string hashing: no set or dict order may leak into the output
    first = _ir_json(SMALL, "1")
    second = _ir_json(SMALL, "2")
    assert first == second
    # locations are relative to the working directory, which _ir_json sets to the model's
    monkeypatch.chdir(SMALL.parent)
    assert ir.from_json(json.loads(first)) == frontend.load(Path(SMALL.name))


# ---------------------------------------------------------------- printer


def test_printer_mentions_every_function_global_struct_and_entry(small):
    text = ir.print_program(small)
    for f in small.functions:
        assert f"func {ir.type_str(f.ret)} {f.name}(" in text
    for g in small.globals:
        assert f"global {ir.type_str(g.type)} {g.name}" in text
    for s in small.structs:
        assert f"struct {s.name} {{" in text
    for e in small.entries:
        assert f"entry {e.function}(" in text
    assert "entry item_add({0, 1})" in text
    assert "lifecycle item.state: ITEM_NEW->ITEM_LIVE" in text
    assert "invariant counted over struct item" in text


def test_printer_marks_visible_instructions_and_is_stable(small):
    text = ir.print_program(small)
    assert text == ir.print_program(small)
    lines = [ln for ln in text.splitlines() if ln.startswith("  ") and ": " in ln and not ln.startswith("    local")]
    n_instr = sum(len(f.body) for f in small.functions)
    assert len(lines) == n_instr
    visible = sum(isinstance(i, ir.VISIBLE) for f in small.functions for i in f.body)
    assert sum(ln.startswith("  *") for ln in lines) == visible


# ---------------------------------------------------------------- validator


def test_validator_rejects_branch_target_out_of_range(small):
    pc = first_pc(small, "item_del", ir.Branch)
    br = small.function("item_del").body[pc]
    bad = with_instr(small, "item_del", pc, dataclasses.replace(br, then=999, loc=LOC))
    e = rejected(bad)
    assert e.message == "branch target out of range in item_del"
    assert e.loc == LOC


def test_validator_rejects_negative_branch_target(small):
    pc = first_pc(small, "item_del", ir.Branch)
    br = small.function("item_del").body[pc]
    e = rejected(with_instr(small, "item_del", pc, dataclasses.replace(br, other=-1, loc=LOC)))
    assert e.message == "branch target out of range in item_del"


def test_validator_rejects_jump_target_out_of_range(small):
    pc = first_pc(small, "item_del", ir.Jump)
    e = rejected(with_instr(small, "item_del", pc, ir.Jump(len(small.function("item_del").body), LOC)))
    assert e.message == "jump target out of range in item_del"
    assert e.loc == LOC


def test_validator_rejects_call_to_undefined_function(small):
    pc = first_pc(small, "item_add", ir.Call)
    call = small.function("item_add").body[pc]
    e = rejected(with_instr(small, "item_add", pc, dataclasses.replace(call, func="no_such_fn", loc=LOC)))
    assert e.message == "call to undefined function no_such_fn"
    assert e.loc == LOC


def test_validator_rejects_call_with_wrong_arity(small):
    pc = first_pc(small, "item_add", ir.Call)
    call = small.function("item_add").body[pc]
    assert call.func == "next_id" and len(call.args) == 1
    extra = call.args + (ir.Const(5, ir.INT, LOC),)
    e = rejected(with_instr(small, "item_add", pc, dataclasses.replace(call, args=extra, loc=LOC)))
    assert e.message == "next_id takes 1 arguments, 2 given"
    assert e.loc == LOC


def test_validator_rejects_primitive_with_wrong_arity(small):
    pc = first_pc(small, "item_release", ir.Prim)
    kfree = small.function("item_release").body[pc]
    assert kfree.name == "kfree"
    e = rejected(with_instr(small, "item_release", pc, dataclasses.replace(kfree, args=(), loc=LOC)))
    assert e.message == "kfree takes 1 arguments, 0 given"
    assert e.loc == LOC


def test_validator_rejects_unknown_primitive(small):
    pc = first_pc(small, "item_release", ir.Prim)
    kfree = small.function("item_release").body[pc]
    e = rejected(with_instr(small, "item_release", pc, dataclasses.replace(kfree, name="vfree", loc=LOC)))
    assert e.message == "unknown primitive vfree"


def test_validator_rejects_kzalloc_of_a_struct_without_a_pool(small):
    bad = dataclasses.replace(small, bounds=dataclasses.replace(small.bounds, pools=()))
    e = rejected(bad)
    assert e.message == "kzalloc of struct item, which has no pool in the bounds"
    assert e.hint == "add `item = 2` under [bounds.pools] in the spec"
    kz = small.function("item_add").body[first_pc(small, "item_add", ir.Prim)]
    assert kz.name == "kzalloc" and e.loc == kz.loc


def test_validator_rejects_direct_recursion(small):
    pc = first_pc(small, "next_id", ir.Ret)
    fn = small.function("next_id")
    call = ir.Call(0, "next_id", (ir.Var(0, ir.INT),), LOC)
    body = fn.body[:pc] + (call,) + fn.body[pc:]
    # well-formed apart from the recursion: the result goes to local 0 (base), before the return
    e = rejected(with_function(small, "next_id", body=body))
    assert e.message == "recursion is not supported (next_id -> next_id)"
    assert e.hint == "rewrite the recursion as a bounded loop"
    assert e.loc == fn.loc


def test_validator_rejects_mutual_recursion_through_a_release_callback(small):
    # item_release -> item_del -> kref_put(..., item_release): a cycle through the callback
    fn = small.function("item_release")
    body = (ir.Call(-1, "item_del", (), LOC),) + fn.body
    e = rejected(with_function(small, "item_release", body=body))
    assert e.message.startswith("recursion is not supported (")
    cycle = e.message[len("recursion is not supported ("):-1].split(" -> ")
    assert cycle[0] == cycle[-1]
    assert set(cycle) == {"item_del", "item_release"}


def test_validator_rejects_entry_point_with_an_empty_domain(small):
    entries = tuple(dataclasses.replace(e, domains=((),), loc=LOC) if e.function == "item_add" else e
                    for e in small.entries)
    e = rejected(dataclasses.replace(small, entries=entries))
    assert e.message == "entry point item_add has an empty argument domain"
    assert e.loc == LOC


def test_validator_rejects_entry_point_whose_domains_do_not_match_the_parameters(small):
    entries = tuple(dataclasses.replace(e, domains=(), loc=LOC) if e.function == "item_add" else e
                    for e in small.entries)
    e = rejected(dataclasses.replace(small, entries=entries))
    assert e.message == "entry point item_add takes 1 arguments, domains give 0"


def test_validator_rejects_entry_point_that_is_not_a_function(small):
    e = rejected(dataclasses.replace(small, entries=small.entries + (ir.EntryPoint("nope", (), LOC),)))
    assert e.message == "entry point nope is not a function of the model"
    assert e.loc == LOC


def test_validator_rejects_local_index_out_of_range(small):
    fn = small.function("item_del")
    pc = first_pc(small, "item_del", ir.Set)
    bad = ir.Set(0, ir.Var(len(fn.locals), ir.INT, LOC), LOC)
    e = rejected(with_instr(small, "item_del", pc, bad))
    assert e.message == f"local %{len(fn.locals)} out of range in item_del"
    assert e.loc == LOC


def test_validator_rejects_destination_out_of_range(small):
    fn = small.function("item_del")
    pc = first_pc(small, "item_del", ir.Set)
    bad = ir.Set(len(fn.locals) + 3, ir.Const(0, ir.INT), LOC)
    e = rejected(with_instr(small, "item_del", pc, bad))
    assert e.message == f"destination %{len(fn.locals) + 3} out of range in item_del"


def test_validator_rejects_negative_set_destination(small):
    # Set has no "discard" form (only Call and Prim use dst = -1 for "no result"); the machine
    # would index locals[-1] and silently overwrite the function's last local
    pc = first_pc(small, "item_del", ir.Set)
    e = rejected(with_instr(small, "item_del", pc, ir.Set(-1, ir.Const(0, ir.INT), LOC)))
    assert e.message == "destination %-1 out of range in item_del"
    assert e.loc == LOC


def test_validator_rejects_address_of_an_undefined_global(small):
    # accepted today, and the machine then dies with KeyError('nope'): an internal error, exit 4
    pc = first_pc(small, "item_del", ir.Store)
    st = small.function("item_del").body[pc]
    assert isinstance(st.addr, ir.GlobalAddr)
    bad = dataclasses.replace(st, addr=dataclasses.replace(st.addr, name="nope", loc=LOC), loc=LOC)
    e = rejected(with_instr(small, "item_del", pc, bad))
    assert "nope" in e.message and "global" in e.message
    assert e.loc == LOC


def test_validator_rejects_address_of_an_unknown_field(small):
    # accepted today; exploration then fails with "struct item has no field nofield" at <unknown>
    body = small.function("item_add").body
    pc = next(k for k, i in enumerate(body) if isinstance(i, ir.Store) and isinstance(i.addr, ir.FieldAddr))
    bad = dataclasses.replace(body[pc], addr=dataclasses.replace(body[pc].addr, field="nofield", loc=LOC), loc=LOC)
    e = rejected(with_instr(small, "item_add", pc, bad))
    assert "nofield" in e.message
    assert e.loc == LOC


def test_validator_rejects_deref_in_a_function_body(small):
    pc = first_pc(small, "item_del", ir.Set)
    read = ir.Deref(ir.GlobalAddr("slot", ir.PtrT(ir.PtrT(ir.StructT("item")))), ir.PtrT(ir.StructT("item")), LOC)
    e = rejected(with_instr(small, "item_del", pc, ir.Set(0, read, LOC)))
    assert e.message == "memory reads inside an expression are only allowed in invariants"
    assert e.loc == LOC


def test_validator_rejects_query_in_a_function_body(small):
    pc = first_pc(small, "item_del", ir.Set)
    q = ir.Query("mutex_is_locked", (ir.GlobalAddr("lock", ir.PtrT(ir.OpaqueT("mutex"))),), ir.BOOL, LOC)
    e = rejected(with_instr(small, "item_del", pc, ir.Set(0, ir.Cast(q, ir.PtrT(ir.StructT("item"))), LOC)))
    assert e.message == "memory reads inside an expression are only allowed in invariants"


def test_validator_rejects_function_that_can_run_off_its_end(small):
    fn = small.function("item_del")
    assert isinstance(fn.body[-1], ir.Ret)
    body = fn.body[:-1] + (ir.Set(0, ir.Const(0, ir.PtrT(ir.StructT("item"))), LOC),)
    e = rejected(with_function(small, "item_del", body=body))
    assert e.message == "function item_del can run off its end"
    assert e.loc == LOC


def test_validator_rejects_function_without_a_body(small):
    e = rejected(with_function(small, "item_del", body=()))
    assert e.message == "function item_del has no body"
    assert e.loc == small.function("item_del").loc


def test_validator_rejects_kref_put_with_a_release_callback_that_is_not_a_function(small):
    body = small.function("item_del").body
    pc = next(k for k, i in enumerate(body) if isinstance(i, ir.Prim) and i.name == "kref_put")
    e = rejected(with_instr(small, "item_del", pc, dataclasses.replace(body[pc], aux="nothing", loc=LOC)))
    assert e.message == "kref_put release callback nothing must be a model function of one argument"


def test_validator_rejects_a_struct_defined_twice(small):
    e = rejected(dataclasses.replace(small, structs=small.structs + (small.struct("item"),)))
    assert e.message == "struct item is defined twice"


def test_validator_rejects_a_struct_that_contains_itself(small):
    item = small.struct("item")
    rec = dataclasses.replace(item, fields=item.fields + (ir.Field("inner", ir.StructT("item"), LOC),))
    e = rejected(dataclasses.replace(small, structs=(rec,)))
    assert e.message == "struct item contains itself"


def test_validator_rejects_bounds_with_more_host_cpus_than_cpus(small):
    e = rejected(dataclasses.replace(small, bounds=dataclasses.replace(small.bounds, cpus=1, host_cpus=2)))
    assert e.message == "bounds need 1 <= host_cpus <= cpus (got host_cpus=2, cpus=1)"


# what tests/test_ir_fuzz.py found: programs that validated, and on which the engines then crashed,
# blew up or disagreed (issue 6)

def _prim_pc(p: ir.Program, fn: str, name: str) -> int:
    return next(k for k, i in enumerate(p.function(fn).body) if isinstance(i, ir.Prim) and i.name == name)


def test_validator_rejects_a_primitive_argument_of_the_wrong_type(small):
    # mutex_lock on a struct pointer: the C enumerator's trace did not replay in machine.py
    pc = _prim_pc(small, "item_del", "mutex_lock")
    prim = small.function("item_del").body[pc]
    it = ir.Var(0, ir.PtrT(ir.StructT("item")), LOC)
    e = rejected(with_instr(small, "item_del", pc, dataclasses.replace(prim, args=(it,), loc=LOC)))
    assert e.message == "argument 1 of mutex_lock is struct item *, not struct mutex *"
    assert e.loc == LOC


def test_validator_rejects_a_field_address_computed_from_an_integer(small):
    body = small.function("item_add").body
    pc = next(k for k, i in enumerate(body) if isinstance(i, ir.Store) and isinstance(i.addr, ir.FieldAddr))
    addr = dataclasses.replace(body[pc].addr, base=ir.Const(2, ir.INT, LOC))
    e = rejected(with_instr(small, "item_add", pc, dataclasses.replace(body[pc], addr=addr, loc=LOC)))
    assert e.message.startswith(f"&...->{addr.field} of struct item through int in item_add")


@pytest.mark.parametrize("op, ok", [("+", False), ("<", False), ("==", True), ("!=", True)])
def test_validator_allows_only_equality_on_pointers(small, op, ok):
    fn = small.function("item_add")
    assert fn.locals[0].type == ir.INT and fn.locals[1].type == ir.PtrT(ir.StructT("item"))
    it = ir.Var(1, fn.locals[1].type, LOC)
    prog = with_instr(small, "item_add", first_pc(small, "item_add", ir.Set),
                      ir.Set(0, ir.Bin(op, it, it, ir.INT, LOC), LOC))
    if ok:
        assert ir.validate(prog) is prog
    else:
        assert rejected(prog).message == f"struct item * {op} struct item * as int in item_add"


def test_validator_rejects_a_query_argument_of_the_wrong_type(small):
    inv = small.invariants[0]
    self_ = ir.Var(0, ir.PtrT(ir.StructT("item")), LOC)
    expr = ir.Bin(">", ir.Query("kref_read", (self_,), ir.UINT, LOC), ir.Const(0, ir.UINT, LOC), ir.INT, LOC)
    e = rejected(dataclasses.replace(small, invariants=(dataclasses.replace(inv, expr=expr),)))
    assert e.message == "kref_read(struct item *) in invariant counted: it takes (kref)"


@pytest.mark.parametrize("change, message", [
    (dict(pools=(("item",),)), "bounds.pools must be a tuple of (str, int) tuples"),
    (dict(pools=(("item", 10 ** 6),)), "pool item has 1000000 slots, not 0..64"),
    (dict(idr_capacity=-(1 << 31)), "bounds.idr_capacity must be an integer in 1..64, not -2147483648"),
    (dict(cpus=1000, host_cpus=1), "bounds.cpus must be an integer in 1..64, not 1000"),
    (dict(cpus_online=(0,)), "bounds.cpus_online names CPU 0, but non-host CPUs are 1..0"),
])
def test_validator_rejects_bounds_outside_what_a_spec_may_ask(small, change, message):
    e = rejected(dataclasses.replace(small, bounds=dataclasses.replace(small.bounds, **change)))
    assert e.message.startswith(message)


def test_validator_rejects_a_result_of_a_primitive_that_returns_nothing(small):
    # mutex_unlock's "result" into a local: the C enumerator wrote it, machine.py did not, and only the
    # C enumerator then found a dangling reference
    pc = _prim_pc(small, "item_del", "mutex_unlock")
    prim = small.function("item_del").body[pc]
    e = rejected(with_instr(small, "item_del", pc, dataclasses.replace(prim, dst=0, loc=LOC)))
    assert e.message == "mutex_unlock returns nothing, its result goes to local %0 of struct item *"


def test_validator_rejects_a_call_argument_of_another_type_than_the_parameter(small):
    body = small.function("item_add").body
    pc = first_pc(small, "item_add", ir.Call)
    it = ir.Var(1, ir.PtrT(ir.StructT("item")), LOC)
    e = rejected(with_instr(small, "item_add", pc, dataclasses.replace(body[pc], args=(it,), loc=LOC)))
    assert e.message == "argument 1 of next_id is struct item *, the parameter base is int"


def test_validator_rejects_a_local_of_an_impossible_width(small):
    fn = small.function("item_add")
    odd = dataclasses.replace(fn.locals[0], type=ir.IntT(0, True), loc=LOC)
    e = rejected(with_function(small, "item_add", locals=(odd,) + fn.locals[1:]))
    assert e.message == "an integer of 0 bits (1 to 64)"
    assert e.loc == LOC


def test_validator_rejects_an_invariant_reading_a_local_it_does_not_have(small):
    inv = small.invariants[0]
    other = ir.Var(2, ir.PtrT(ir.StructT("item")), LOC)
    expr = ir.Bin("!=", other, ir.Const(0, ir.PtrT(ir.StructT("item")), LOC), ir.INT, LOC)
    e = rejected(dataclasses.replace(small, invariants=(dataclasses.replace(inv, expr=expr),)))
    assert e.message == "local %2 in invariant counted, which has only self (%0)"


def test_validator_rejects_a_release_callback_that_does_not_take_a_kref(small):
    body = small.function("item_del").body
    pc = _prim_pc(small, "item_del", "kref_put")
    e = rejected(with_instr(small, "item_del", pc, dataclasses.replace(body[pc], aux="next_id", loc=LOC)))
    assert e.message == "kref_put release callback next_id takes int, not struct kref *"


def test_validator_rejects_an_array_no_spec_could_declare(small):
    item = small.struct("item")
    big = dataclasses.replace(item, fields=item.fields + (ir.Field("many", ir.ArrayT(ir.INT, 1 << 31), LOC),))
    e = rejected(dataclasses.replace(small, structs=(big,)))
    assert e.message == f"array size {1 << 31} is out of range (1..4096)"


@pytest.mark.parametrize("body", [
    "struct item *p = slot;\n\tif (p == 0)\n\t\treturn;\n\tp->id = 1;",           # a pointer compared with 0
    "void *v = slot;\n\tstruct item *it;\n\tif (!v)\n\t\treturn;\n"
    "\tit = container_of(v, struct item, ref);\n\tit->id = 1;",                         # container_of of a void *
])
def test_validator_accepts_what_the_front_end_makes_of_valid_c(tmp_path, body):
    """The typing rules must not refuse the front end's own output (the review found both of these)."""
    src = SMALL.read_text().replace("void item_del(void)\n{", f"void probe(void)\n{{\n\t{body}\n}}\n\n"
                                                              "void item_del(void)\n{", 1)
    (tmp_path / "small.c").write_text(src)
    (tmp_path / "small.toml").write_text((FIXTURES / "ir" / "small.toml").read_text())
    p = frontend.load(tmp_path / "small.c")
    assert p.function("probe") is not None and ir.validate(p) is p


def test_validator_error_renders_gnu_style(small):
    pc = first_pc(small, "item_del", ir.Branch)
    br = small.function("item_del").body[pc]
    e = rejected(with_instr(small, "item_del", pc, dataclasses.replace(br, then=999, loc=LOC)))
    assert e.render() == "hand-made.c:7:3: error: branch target out of range in item_del"
