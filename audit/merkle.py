"""The trail as a Merkle tree in the manner of RFC 9162 (section 2.1), pure.

Leaf i (from 0) is the event with seq i + 1; its leaf input is the 32 raw
bytes of the event's chain hash. Leaf hash SHA-256(0x00 || input), node hash
SHA-256(0x01 || left || right); a tree of n > 1 leaves splits at k, the
largest power of two smaller than n. Functions here take and return raw
32-byte hashes; the API turns them into hex.

This module knows nothing of Django: the API feeds it the stored hashes
(audit.selectors.leaf_hashes), and docs/verify_receipt.py carries its own
short copy of the two verification algorithms (a verifier independent of the
server). tests/audit/test_merkle.py checks both against a naive reference.

Cost: building a proof hashes every leaf up to the tree size once (about 2n
SHA-256 calls, 2 to 3 s per million events in CPython) after one ordered
read of the stored hashes. That is the price of keeping no derived
table; a cache of perfect-subtree roots would make it O(log n) if the trail
grows far beyond today's scale.
"""

import hashlib
from collections.abc import Iterable, Sequence

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def _mth(leaves: Sequence[bytes], lo: int, hi: int) -> bytes:
    """MTH of leaves[lo:hi] (already leaf-hashed)."""
    n = hi - lo
    if n == 1:
        return leaves[lo]
    if n & (n - 1) == 0:
        # A perfect subtree: pair up level by level, which CPython runs about
        # twice as fast as the recursion (most of a big tree is perfect).
        sha256, prefix = hashlib.sha256, NODE_PREFIX
        level = leaves[lo:hi]
        while len(level) > 1:
            level = [sha256(prefix + level[i] + level[i + 1]).digest() for i in range(0, len(level), 2)]
        return level[0]
    k = _split(n)
    return node_hash(_mth(leaves, lo, lo + k), _mth(leaves, lo + k, hi))


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of leaf hashes; the empty tree's is SHA-256 of nothing."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    return _mth(leaves, 0, len(leaves))


def inclusion_path(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) (RFC 9162 2.1.3.1), from the leaf up."""
    if not 0 <= index < len(leaves):
        raise ValueError("leaf index outside the tree")
    path: list[bytes] = []
    lo, hi = 0, len(leaves)
    # Walk down, collecting the sibling subtree at each level, then reverse:
    # the RFC lists them bottom-up.
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            path.append(_mth(leaves, lo + k, hi))
            hi = lo + k
        else:
            path.append(_mth(leaves, lo, lo + k))
            lo = lo + k
    path.reverse()
    return path


def consistency_path(first: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) (RFC 9162 2.1.4.1) for 0 < m <= n."""
    n = len(leaves)
    if not 0 < first <= n:
        raise ValueError("first tree size must be between 1 and the second")
    if first == n:
        return []
    return _subproof(first, leaves, 0, n, True)


def _subproof(m: int, leaves: Sequence[bytes], lo: int, hi: int, whole: bool) -> list[bytes]:
    n = hi - lo
    if m == n:
        return [] if whole else [_mth(leaves, lo, hi)]
    k = _split(n)
    if m <= k:
        return _subproof(m, leaves, lo, lo + k, whole) + [_mth(leaves, lo + k, hi)]
    return _subproof(m - k, leaves, lo + k, hi, False) + [_mth(leaves, lo, lo + k)]


class Frontier:
    """The roots of the perfect subtrees of the leaves seen so far (the
    binary decomposition of their count): appending is O(log n) amortised
    and the root at the current size is O(log n), so the roots at many sizes
    come out of one pass over the hashes."""

    def __init__(self):
        self.size = 0
        self._stack: list[tuple[int, bytes]] = []  # (subtree size, root), largest first

    def append(self, leaf: bytes) -> None:
        size, digest = 1, leaf
        while self._stack and self._stack[-1][0] == size:
            left_size, left = self._stack.pop()
            size, digest = size + left_size, node_hash(left, digest)
        self._stack.append((size, digest))
        self.size += 1

    def root(self) -> bytes:
        if not self._stack:
            return hashlib.sha256(b"").digest()
        # The RFC's split puts the largest perfect subtree on the left at each
        # level, so the tree folds right to left over the decomposition.
        digest = self._stack[-1][1]
        for _size, left in reversed(self._stack[:-1]):
            digest = node_hash(left, digest)
        return digest


def roots_at(leaves: Iterable[bytes], sizes: Iterable[int]) -> dict[int, bytes]:
    """{size: MTH of the first `size` leaf hashes} in one pass."""
    wanted = sorted(set(sizes))
    out: dict[int, bytes] = {}
    frontier = Frontier()
    position = 0
    if wanted and wanted[0] == 0:
        out[0] = frontier.root()
        position = 1
    for leaf in leaves:
        if position >= len(wanted):
            break
        frontier.append(leaf)
        while position < len(wanted) and wanted[position] == frontier.size:
            out[frontier.size] = frontier.root()
            position += 1
    return out


# --- Verification (RFC 9162 2.1.3.2 and 2.1.4.2) ------------------------------


def inclusion_verify(*, index: int, size: int, leaf: bytes, path: Sequence[bytes], root_hash: bytes) -> bool:
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root_hash


def consistency_verify(*, first: int, second: int, first_root: bytes, second_root: bytes,
                       path: Sequence[bytes]) -> bool:
    if not 0 < first <= second:
        return False
    if first == second:
        return not path and first_root == second_root
    if not path:
        return False
    path = list(path)
    if first & (first - 1) == 0:  # a power of two: the first root is the proof's start
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root
