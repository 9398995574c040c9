# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""statements.extract of many files with PHP's own tokenizer (PhpToken,
PHP 8.0 or later): one ``php`` process per job reads its share of the
files, tokenizes them and sends back, per file, where the statements of
interest are (as lexer.scan_statements_fast finds them) and the text they
span; this process tokenizes those few spans with the lexer's own token
loop and builds the same Extracted as the Python path.

The PHP script works out what the Python lexer would see (its quirks
included: keywords are lower case, a word after ``->`` or ``::`` is none,
``class`` context only in files with ``const``...). Where the two could
see a file differently (a string whose interpolation holds quotes, a
heredoc the lexer would close elsewhere, a bare CR, ``__halt_compiler``,
backticks, a keyword next to a non-ASCII byte, an unreadable or odd file),
the file is left to the Python lexer; so is a span whose tokens do not end
where PHP said. The result never depends on which path ran.
Pure standard library, and the ``php`` binary."""

from __future__ import annotations

import bisect
import os
import selectors
import subprocess
from collections import namedtuple

from ansible_collections.lastgood.webstack.plugins.module_utils._php.lexer import (
    INTERESTING, STATEMENT_KEYWORDS, Hit, _php_tokens)
from ansible_collections.lastgood.webstack.plugins.module_utils._php.statements import (
    MAX_FILE_BYTES, Extracted, cut_problem, statements_of)

# Starting a php process costs about what tokenizing 150 files with it saves
# (benchmarks/bench_php_extract.py: on WordPress, php is faster from 192
# files, not yet at 128): fewer files are tokenized by Python, and each php
# process gets this many files at least.
MIN_FILES = 192
FILES_PER_PROCESS = 192
# Seconds without a byte from a php process before it counts as hung (a file
# turned into a FIFO between its stat and its read blocks the read).
IDLE_TIMEOUT = 30.0
PHP = "php"
PYTHON = "python"
BOTH = "php+python"


class Php(namedtuple("Php", "binary always")):
    """The php binary whose tokenizer reads the files, and whether to use it
    whatever the number of files (else only from MIN_FILES on)."""
    __slots__ = ()


def _words(words):
    return "|".join(sorted(words, key=len, reverse=True))


# Reads NUL-separated paths on stdin; writes one record per path, then "end":
#   "p WHY"                               left to Python
#   "o DECLARES CUT LENGTH HITS SPANS"    then HITS lines "WORD LINE START END IN_CLASS SILENCED"
#                                         and SPANS times "START BYTES\n" and the bytes
# Offsets count characters as Python decodes the bytes (UTF-8, surrogateescape).
_SCRIPT = r"""
if (PHP_VERSION_ID < 80000 || !class_exists('PhpToken')) { echo "unsupported\n"; exit(3); }
const MAX = @MAX@;
const W = '@WORDS@';
const CALLS = '/include|require|define|const|file_exists|is_file|is_readable|ini_set/';
// As lexer._FAST finds them (whole words, not after $ or \), with class
// declarations looked for only in files with const (scan_statements).
const WORD_CALLS = '/(?<![A-Za-z0-9_\x80-\xff$\\\\])(?:@CALLS@)(?![A-Za-z0-9_\x80-\xff])/';
const WORD_CLASSES = '/(?<![A-Za-z0-9_\x80-\xff$\\\\])(?:interface|class|trait|enum)(?![A-Za-z0-9_\x80-\xff])/';
const ODD = '/[\x80-\xff](?:' . W . ')|(?:' . W . ')[\x80-\xff]/';
const DECL = '/(*LF)^[ \t]*(?:(?:abstract|final|readonly)[ \t]+)*(?:class|interface|trait|enum)[ \t]+[A-Za-z_]/mi';
// Python's re.IGNORECASE also matches i to U+0130 and U+0131, s to U+017F, k to U+212A.
const FOLDS = '/\xc4[\xb0\xb1]|\xc5\xbf|\xe2\x84\xaa/';
const I = '(?:i|\xc4[\xb0\xb1])';
const S = '(?:s|\xc5\xbf)';
const DECL_FOLDS = '/(*LF)^[ \t]*(?:(?:ab' . S . 'tract|f' . I . 'nal|readonly)[ \t]+)*(?:cla' . S . S . '|' . I . 'nterface|tra' . I
    . 't|enum)[ \t]+(?:[A-Za-z_]|\xc4[\xb0\xb1]|\xc5\xbf|\xe2\x84\xaa)/mi';
const NOT_CODE = [T_INLINE_HTML, T_COMMENT, T_DOC_COMMENT, T_CONSTANT_ENCAPSED_STRING, T_ENCAPSED_AND_WHITESPACE];
const CLASSES = ['class' => 1, 'interface' => 1, 'trait' => 1, 'enum' => 1];
function rx($re, $s, $at = 0) {
    $r = preg_match($re, $s, $m, PREG_OFFSET_CAPTURE, $at);
    if ($r === false) throw new Exception('pcre');
    return $r ? $m : null;
}
function all($re, $s) {
    if (preg_match_all($re, $s, $m, PREG_OFFSET_CAPTURE) === false) throw new Exception('pcre');
    return $m[0];
}
function containing($t, $p) {
    for ($lo = 0, $hi = count($t) - 1; $lo < $hi;) {
        $mid = ($lo + $hi + 1) >> 1;
        if ($t[$mid]->pos <= $p) $lo = $mid; else $hi = $mid - 1;
    }
    return $lo;
}
function at($t, $p) {
    $k = containing($t, $p);
    return $t[$k]->pos === $p ? $k : -1;
}
function silenced($s, $p) {
    while (--$p >= 0) {
        $o = ord($s[$p]);
        if ($o === 32 || ($o >= 9 && $o <= 13) || ($o >= 28 && $o <= 31)) continue;
        if ($o < 128) return $o === 64;
        if ($p >= 1 && rx('/\xc2[\x85\xa0]/A', $s, $p - 1)) { $p--; continue; }
        if ($p >= 2 && rx('/\xe1\x9a\x80|\xe2\x80[\x80-\x8a\xa8\xa9\xaf]|\xe2\x81\x9f|\xe3\x80\x80/A', $s, $p - 2)) { $p -= 2; continue; }
        return false;
    }
    return false;
}
function python_end($s, $tok) {
    if ($tok->id === 34) {
        $m = rx('/"[^"\\\\]*(?:\\\\.[^"\\\\]*)*"?/As', $s, $q = $tok->pos + ($tok->text[0] === '"' ? 0 : 1));
        return $q + strlen($m[0][0]);
    }
    $at = $tok->pos + strpos($tok->text, '<<<');
    $m = rx('/<<<[ \t]*(["\']?)([A-Za-z_][A-Za-z0-9_]*)\1\r?\n/A', $s, $at);
    if (!$m || $at + strlen($m[0][0]) !== $tok->pos + strlen($tok->text)) return -1;
    $c = rx('/(*LF)^[ \t]*' . $m[2][0] . '(?![A-Za-z0-9_])/m', $s, $tok->pos + strlen($tok->text));
    if (!$c) return strlen($s);
    $e = $c[0][1] + strlen($c[0][0]);
    return ($e < strlen($s) && ord($s[$e]) >= 128) ? -1 : $e;
}
function keys($ids, $n, $id) {
    return isset($n[$id]) ? array_keys($ids, $id, true) : [];
}
function regions($s, $t, $ids, $n) {
    $d = array_merge(keys($ids, $n, 34), keys($ids, $n, T_START_HEREDOC), keys($ids, $n, T_END_HEREDOC));
    sort($d);
    $ends = []; $open = -1; $last = count($ids) - 1;
    foreach ($d as $k) {
        if ($open < 0) { if ($ids[$k] === T_END_HEREDOC) return null; $open = $k; continue; }
        if ($ids[$k] !== ($ids[$open] === 34 ? 34 : T_END_HEREDOC)) return null;
        $ends[$open] = [$k, $t[$k]->pos + strlen($t[$k]->text)]; $open = -1;
    }
    if ($open >= 0) $ends[$open] = [$last, strlen($s)];
    foreach ($ends as $a => [$b, $end]) if (python_end($s, $t[$a]) !== $end) return null;
    // Pairs of quotes are strings only if no text lexed as a string's is left
    // between them (a string nested in "{$a["..."]}" would be).
    foreach ([T_ENCAPSED_AND_WHITESPACE, T_CURLY_OPEN, T_DOLLAR_OPEN_CURLY_BRACES, T_STRING_VARNAME] as $id) {
        $open = array_keys($ends); $r = 0;
        foreach (keys($ids, $n, $id) as $k) {
            while ($r < count($open) && $ends[$open[$r]][0] < $k) $r++;
            if (!($r < count($open) && $open[$r] <= $k) && !($k === $last && $t[$k]->text[0] === "'")) return null;
        }
    }
    return $ends;
}
function hidden($s, $t, $n, $needle, $id) {
    if (substr_count($s, $needle) === ($n[$id] ?? 0)) return false;
    for ($p = strpos($s, $needle); $p !== false; $p = strpos($s, $needle, $p + 1)) {
        $k = containing($t, $p);
        if ($t[$k]->id === $id || in_array($t[$k]->id, NOT_CODE, true)) continue;
        if ($id === T_START_HEREDOC && !rx('/<<<[ \t]*(["\']?)[A-Za-z_][A-Za-z0-9_]*\1\r?\n/A', $s, $p)) continue;
        return true;
    }
    return false;
}
function candidates($t, $ids, $ends, $words) {
    static $code = null;
    $code ??= array_fill_keys(array_filter([T_STRING, T_NAME_QUALIFIED, T_INCLUDE, T_INCLUDE_ONCE, T_REQUIRE, T_REQUIRE_ONCE,
        T_CONST, T_CLASS, T_INTERFACE, T_TRAIT, defined('T_ENUM') ? T_ENUM : 0]), 1);
    $found = []; $open = array_keys($ends); $r = 0;
    foreach ($words as [$w, $p]) {
        if (($k = at($t, $p)) < 0) continue;
        while ($r < count($open) && $ends[$open[$r]][0] < $k) $r++;
        if ($r < count($open) && $open[$r] <= $k) continue;
        $id = $ids[$k]; $text = $t[$k]->text;
        if (in_array($id, NOT_CODE, true)) continue;
        if (!isset($code[$id]) || ($text !== $w && !($id === T_NAME_QUALIFIED && str_starts_with($text, $w . '\\')))) throw new Exception('odd');
        $found[] = [$w, $k, $p, 0];
    }
    return $found;
}
function in_classes($s, $t, $ids, $ends, $found) {
    $braces = array_merge(array_keys($ids, 123, true), array_keys($ids, 125, true));
    $events = [];
    foreach ($found as $f) if (strpos('>:', $s[$f[2] - 1]) === false) $events[$f[1]] = $f;
    $open = array_keys($ends); $r = 0; sort($braces);
    foreach ($braces as $k) {
        while ($r < count($open) && $ends[$open[$r]][0] < $k) $r++;
        if (!($r < count($open) && $open[$r] <= $k)) $events[$k] = $ids[$k];
    }
    ksort($events);
    $hits = []; $depth = 0; $classes = []; $pending = false;
    foreach ($events as $e) {
        if ($e === 123) { $depth++; if ($pending) { $classes[] = $depth; $pending = false; } }
        elseif ($e === 125) { if ($classes && end($classes) === $depth) array_pop($classes); $depth--; }
        elseif (isset(CLASSES[$e[0]])) $pending = true;
        else { $e[3] = $classes ? 1 : 0; $hits[] = $e; }
    }
    return $hits;
}
function chunk_end($s, $t, $ids, $k, $limit, $ends) {
    for ($depth = 0, $n = count($ids), $j = $k + 1; $j < $n; $j++) {
        if ($t[$j]->pos >= $limit) return $limit;
        if (isset($ends[$j])) { $j = $ends[$j][0]; continue; }
        switch ($ids[$j]) {
            case 40: case 91: case T_ATTRIBUTE: $depth++; break;
            case 41: case 93: $depth--; break;
            case 59: case 123: case 125: if ($depth <= 0) return $t[$j]->pos + 1; break;
            case T_CLOSE_TAG: return $t[$j]->pos + (substr($s, $t[$j]->pos + 2, 1) === "\n" ? 3 : 2);
        }
    }
    return min($limit, strlen($s));
}
function chars($s, $high, $positions) {
    $map = []; $prev = 0; $shift = 0;
    sort($positions);
    foreach ($positions as $p) {
        if ($high && $p > $prev) {
            $seg = substr($s, $prev, $p - $prev);
            $shift += preg_match_all('/[\xc2-\xdf][\x80-\xbf]/', $seg)
                + 2 * preg_match_all('/\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}|\xed[\x80-\x9f][\x80-\xbf]/', $seg)
                + 3 * preg_match_all('/\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2}/', $seg);
            $prev = $p;
        }
        $map[$p] = $p - $shift;
    }
    return $map;
}
function hits($s, $high, $calls) {
    $t = PhpToken::tokenize($s);
    $ids = array_column($t, 'id');
    $n = array_count_values($ids);
    if (isset($n[T_HALT_COMPILER]) || isset($n[96])) throw new Exception('halt-or-backtick');
    foreach (keys($ids, $n, T_INLINE_HTML) as $k) if (stripos($t[$k]->text, '<?php') !== false) throw new Exception('open-tag');
    if (($ends = regions($s, $t, $ids, $n)) === null) throw new Exception('string-extent');
    // After -> PHP reads #[ as a comment, Python as code.
    if (strpos($s, '#[') !== false) foreach (keys($ids, $n, T_COMMENT) as $k) if (str_starts_with($t[$k]->text, '#[')) throw new Exception('comment');
    if (hidden($s, $t, $n, '?>', T_CLOSE_TAG) || hidden($s, $t, $n, '<<<', T_START_HEREDOC)) throw new Exception('hidden-construct');
    $found = candidates($t, $ids, $ends, $calls);
    $hits = [];
    foreach ($found as $f) if (!in_array(substr($s, $f[2] - 2, 2), ['->', '::'], true)) $hits[] = $f;
    foreach ($hits as $h) if ($h[0] === 'const') {
        $found = array_merge($found, candidates($t, $ids, $ends, all(WORD_CLASSES, $s)));
        usort($found, fn($a, $b) => $a[2] <=> $b[2]);
        $hits = in_classes($s, $t, $ids, $ends, $found);
        break;
    }
    $rows = []; $spans = []; $line = 1; $prev = 0; $n = count($hits);
    foreach ($hits as $i => [$w, $k, $p, $in]) {
        $line += substr_count($s, "\n", $prev, $p - $prev); $prev = $p;
        $end = chunk_end($s, $t, $ids, $k, $i + @STATEMENT_KEYWORDS@ < $n ? $hits[$i + @STATEMENT_KEYWORDS@][2] : PHP_INT_MAX, $ends);
        $rows[] = [$w, $line, $p, $end, $in, silenced($s, $p) ? 1 : 0];
        if ($spans && $p <= $spans[count($spans) - 1][1]) $spans[count($spans) - 1][1] = max($end, $spans[count($spans) - 1][1]);
        else $spans[] = [$p, $end];
    }
    $c = chars($s, $high, array_merge(array_column($rows, 2), array_column($rows, 3), [strlen($s)]));
    $out = $c[strlen($s)] . " $n " . count($spans) . "\n";
    foreach ($rows as [$w, $line, $p, $end, $in, $sil]) $out .= "$w $line {$c[$p]} {$c[$end]} $in $sil\n";
    foreach ($spans as [$a, $b]) $out .= $c[$a] . ' ' . ($b - $a) . "\n" . substr($s, $a, $b - $a);
    return $out;
}
function record($path) {
    if (!is_file($path) || ($s = @file_get_contents($path, false, null, 0, MAX + 1)) === false) return "p unread\n";
    $cut = strlen($s) > MAX ? 1 : 0;
    if ($cut) $s = substr($s, 0, MAX);
    $high = rx('/[\x80-\xff]/', $s) !== null;
    $decl = rx($high && rx(FOLDS, $s) ? DECL_FOLDS : DECL, $s) ? 1 : 0;
    if (!rx(CALLS, $s)) return "o $decl $cut 0 0 0\n";
    if ($high && rx(ODD, $s)) return "p non-ascii\n";
    if (!($calls = all(WORD_CALLS, $s))) return "o $decl $cut 0 0 0\n";
    if (strpos($s, "\r") !== false && rx('/\r(?!\n)/', $s)) return "p cr\n";
    return "o $decl $cut " . hits($s, $high, $calls);
}
$paths = ($in = stream_get_contents(STDIN)) === '' ? [] : explode("\0", $in);
$out = '';
foreach ($paths as $path) {
    try { $out .= record($path); } catch (Throwable $e) { $out .= 'p ' . strtr($e->getMessage(), "\r\n", '  ') . "\n"; }
    if (strlen($out) >= 65536) { fwrite(STDOUT, $out); $out = ''; }
}
fwrite(STDOUT, $out . "end\n");
""".replace("@MAX@", str(MAX_FILE_BYTES)).replace("@WORDS@", _words(INTERESTING)).replace(
    "@CALLS@", _words(set(INTERESTING) - set(("class", "interface", "trait", "enum")))).replace(
    "@STATEMENT_KEYWORDS@", str(STATEMENT_KEYWORDS))


_Record = namedtuple("_Record", "declares cut length hits spans")


class _Cut(ValueError):
    """The output so far ends inside a record."""


def worth(files, php):
    """Whether php should tokenize ``files``."""
    return bool(files) and (php.always or len(files) >= MIN_FILES)


def extract_with_php(files, php, jobs, left=None):
    """``(results, tokenizer)``: the Extracted of each ``(live, checked)`` of
    ``files`` that the php processes (``jobs`` at most) delivered, None for
    each file they left to Python or did not deliver; and PHP when every
    process finished, BOTH when some did not, PYTHON when none delivered
    anything (no php 8, no tokenizer extension). ``left``: a dict that gets
    why, for the index of each file left to Python."""
    count = max(1, min(jobs, len(files) // FILES_PER_PROCESS))
    results = [None] * len(files)
    # Interleaved shares: trees keep their big files together.
    outputs = [_Output(files, list(range(number, len(files), count)), results, left) for number in range(count)]
    _run(php.binary, outputs)
    finished = sum(output.finished for output in outputs)
    delivered = sum(output.count for output in outputs)
    return results, PHP if finished == count else BOTH if delivered else PYTHON


class _Output:
    """A php process's share of the files and what it sent back, each
    record turned into its file's Extracted as soon as it is whole."""

    def __init__(self, files, share, results, left):
        self.files = files
        self.share = share
        self.results = results
        self.left = {} if left is None else left
        self.data = b""
        self.count = 0
        self.broken = False
        self.finished = False

    def paths(self):
        return b"\0".join(os.fsencode(self.files[index][1]) for index in self.share)

    def feed(self, data):
        """Takes what the process wrote next."""
        if self.broken:
            return
        data = self.data + data
        position = 0
        try:
            while self.count < len(self.share):
                record, position = _record(data, position)
                index = self.share[self.count]
                if isinstance(record, _Record):
                    record = self.results[index] = _extracted(self.files[index][0], record)
                if not isinstance(record, Extracted):
                    self.left[index] = record or "tokens differ"
                self.count += 1
        except _Cut:
            pass
        except (ValueError, IndexError):
            self.broken = True
        self.data = data[position:]

    def end(self, returncode):
        """The process ended (or was killed, or never started: None)."""
        self.finished = not self.broken and returncode == 0 and self.count == len(self.share) and self.data == b"end\n"


def php_argv(binary):
    """The command of one php process: no php.ini (-n) for nothing to
    interfere, the tokenizer extension loaded, warnings off stdout."""
    return [binary, "-n", "-d", "extension=tokenizer", "-d", "display_errors=stderr", "-d", "display_startup_errors=0",
            "-d", "error_reporting=0", "-d", "memory_limit=-1", "-d", "short_open_tag=0", "-r", _SCRIPT]


def _run(binary, outputs):
    """One php process for each of ``outputs``, given its share of paths; what
    each writes is fed back as it comes, until it ends or falls silent for
    IDLE_TIMEOUT seconds (then it is killed)."""
    argv = php_argv(binary)
    env = dict(os.environ, LC_ALL="C")
    running = {}
    try:
        for output in outputs:
            try:
                process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                           stderr=subprocess.DEVNULL, env=env, close_fds=True)
            except OSError:
                output.end(None)
                continue
            running[process] = output
            try:
                # php reads all of it before it writes anything.
                with process.stdin:
                    process.stdin.write(output.paths())
            except OSError:
                pass
        with selectors.DefaultSelector() as selector:
            for process, output in running.items():
                selector.register(process.stdout, selectors.EVENT_READ, output)
            while selector.get_map() and _read_some(selector):
                pass
    finally:
        for process, output in running.items():
            if process.poll() is None:
                process.kill()
            process.wait()
            process.stdout.close()
            output.end(process.returncode)


def _read_some(selector):
    """Feeds what the processes wrote; False when none wrote for IDLE_TIMEOUT."""
    events = selector.select(IDLE_TIMEOUT)
    for key, dummy in events:
        data = os.read(key.fd, 1 << 16)
        if data:
            key.data.feed(data)
        else:
            selector.unregister(key.fileobj)
    return bool(events)


def _line(data, position):
    end = data.find(b"\n", position)
    if end < 0:
        raise _Cut()
    return data[position:end].split(), end + 1


def _record(data, position):
    fields, position = _line(data, position)
    if fields[:1] == [b"p"]:
        return b" ".join(fields[1:]).decode("ascii", "replace") or "?", position
    if len(fields) != 6 or fields[0] != b"o":
        raise ValueError("garbled")
    declares, cut, length, count, spans = [int(field) for field in fields[1:]]
    hits = []
    for dummy in range(count):
        fields, position = _line(data, position)
        word = fields[0].decode("ascii", "replace") if fields else ""
        if len(fields) != 6 or word not in INTERESTING:
            raise ValueError("garbled")
        hits.append((word, int(fields[1]), int(fields[2]), int(fields[3]), fields[4] == b"1", fields[5] == b"1"))
    regions = []
    for dummy in range(spans):
        fields, position = _line(data, position)
        if len(fields) != 2:
            raise ValueError("garbled")
        start, size = int(fields[0]), int(fields[1])
        if len(data) < position + size:
            raise _Cut()
        regions.append((start, data[position:position + size].decode("utf-8", "surrogateescape")))
        position += size
    return _Record(declares == 1, cut == 1, length, hits, regions), position


def _extracted(live, record):
    """The Extracted of one file from its record, each statement tokenized
    here by the lexer's own loop; None when the tokens of one do not start
    and end where PHP said (the file is then left to Python)."""
    starts = [start for start, body in record.spans]
    hits = []
    previous = -1
    for number, (word, line, start, end, in_class, dummy) in enumerate(record.hits):
        later = number + STATEMENT_KEYWORDS
        limit = record.hits[later][2] if later < len(record.hits) else None
        index = bisect.bisect_right(starts, start) - 1
        if start <= previous or index < 0:
            return None
        previous = start
        base, body = record.spans[index]
        tokens = []
        position, dummy, ran_out = _php_tokens(body, start - base, line, tokens, True, None if limit is None else limit - base)
        if base + position != end or not tokens or tokens[0].start != start - base \
                or not (tokens[0].value == word or tokens[0].value.startswith(word + "\\")):
            return None
        closed = tokens[-1].end == position and body.startswith("?>", tokens[-1].start)
        if ran_out and not closed and end != limit and end != record.length:
            return None
        for token in tokens:
            token.start += base
            token.end += base
        hits.append(Hit(word, line, tokens, 0, in_class, start))

    def text(first, last):
        base, body = record.spans[bisect.bisect_right(starts, first) - 1]
        return body[first - base:last - base]
    silenced = set(hit[2] for hit in record.hits if hit[5])
    statements, definitions = statements_of(live, hits, text, silenced.__contains__)
    return Extracted(statements, definitions, cut_problem(live) if record.cut else None, record.declares)
