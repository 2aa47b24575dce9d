"""audit.merkle against a naive reference of RFC 9162 (section 2.1), for every
tree size up to 40: every inclusion and consistency proof verifies, and a
flipped bit, a wrong index or a wrong size does not."""

import hashlib

import pytest

from audit import merkle

MAX = 40


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def ref_mth(inputs: list[bytes]) -> bytes:
    """MTH as the RFC writes it, on leaf inputs (not yet hashed)."""
    n = len(inputs)
    if n == 0:
        return _h(b"")
    if n == 1:
        return _h(b"\x00" + inputs[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return _h(b"\x01" + ref_mth(inputs[:k]) + ref_mth(inputs[k:]))


def ref_path(m: int, inputs: list[bytes]) -> list[bytes]:
    n = len(inputs)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return ref_path(m, inputs[:k]) + [ref_mth(inputs[k:])]
    return ref_path(m - k, inputs[k:]) + [ref_mth(inputs[:k])]


def ref_subproof(m: int, inputs: list[bytes], whole: bool) -> list[bytes]:
    n = len(inputs)
    if m == n:
        return [] if whole else [ref_mth(inputs)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return ref_subproof(m, inputs[:k], whole) + [ref_mth(inputs[k:])]
    return ref_subproof(m - k, inputs[k:], False) + [ref_mth(inputs[:k])]


INPUTS = [_h(str(i).encode()) for i in range(MAX)]  # 32-byte inputs, like the chain's hashes
LEAVES = [merkle.leaf_hash(x) for x in INPUTS]


def _flip(digest: bytes) -> bytes:
    return bytes([digest[0] ^ 1]) + digest[1:]


@pytest.mark.parametrize("n", range(1, MAX + 1))
def test_the_root_and_inclusion_proofs_match_the_rfcs_definition_and_verify(n):
    root = merkle.root(LEAVES[:n])
    assert root == ref_mth(INPUTS[:n])
    frontier = merkle.Frontier()
    for leaf in LEAVES[:n]:
        frontier.append(leaf)
    assert frontier.root() == root
    for i in range(n):
        path = merkle.inclusion_path(i, LEAVES[:n])
        assert path == ref_path(i, INPUTS[:n])
        assert merkle.inclusion_verify(index=i, size=n, leaf=LEAVES[i], path=path, root_hash=root)
        assert not merkle.inclusion_verify(index=i, size=n, leaf=_flip(LEAVES[i]), path=path, root_hash=root)
        assert not merkle.inclusion_verify(index=i, size=n, leaf=LEAVES[i], path=path, root_hash=_flip(root))
        for j in range(len(path)):
            bad = path[:j] + [_flip(path[j])] + path[j + 1:]
            assert not merkle.inclusion_verify(index=i, size=n, leaf=LEAVES[i], path=bad, root_hash=root)
        if n > 1:
            assert not merkle.inclusion_verify(index=(i + 1) % n, size=n, leaf=LEAVES[i], path=path, root_hash=root)
        # (A size alone is not checked against the path's shape: the signed
        # tree head binds the size to its root, and another size has another root.)
        if n < MAX:
            assert not merkle.inclusion_verify(index=i, size=n + 1, leaf=LEAVES[i], path=path,
                                               root_hash=merkle.root(LEAVES[:n + 1]))


@pytest.mark.parametrize("n", range(1, MAX + 1))
def test_consistency_proofs_match_the_rfcs_definition_and_verify(n):
    second = merkle.root(LEAVES[:n])
    for m in range(1, n + 1):
        first = merkle.root(LEAVES[:m])
        path = merkle.consistency_path(m, LEAVES[:n])
        assert path == ([] if m == n else ref_subproof(m, INPUTS[:n], True))
        assert merkle.consistency_verify(first=m, second=n, first_root=first, second_root=second, path=path)
        assert not merkle.consistency_verify(first=m, second=n, first_root=_flip(first), second_root=second,
                                             path=path)
        assert not merkle.consistency_verify(first=m, second=n, first_root=first, second_root=_flip(second),
                                             path=path)
        for j in range(len(path)):
            bad = path[:j] + [_flip(path[j])] + path[j + 1:]
            assert not merkle.consistency_verify(first=m, second=n, first_root=first, second_root=second, path=bad)


def test_a_rewritten_leaf_breaks_consistency_with_the_old_root():
    old = merkle.root(LEAVES[:10])
    rewritten = LEAVES[:3] + [merkle.leaf_hash(b"forged" * 6)] + LEAVES[4:20]
    path = merkle.consistency_path(10, rewritten)
    assert not merkle.consistency_verify(first=10, second=20, first_root=old, second_root=merkle.root(rewritten),
                                         path=path)


def test_roots_at_gives_the_root_at_every_asked_size_in_one_pass():
    sizes = [0, 1, 5, 16, 17, MAX]
    roots = merkle.roots_at(iter(LEAVES), sizes)
    assert roots == {size: merkle.root(LEAVES[:size]) for size in sizes}
