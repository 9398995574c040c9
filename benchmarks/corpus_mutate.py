"""The corpus benchmark's own reading of PHP code and web-server configs
(bench_corpus.py): where the require statements and the path directives
are, which of them to break (deterministically, from a seed), how to break
them, and whether a tool's findings caught a break.

It is written apart from the collection's parsers on purpose: a mutant is
chosen and judged by this code, so that a blind spot of php_refs or web_refs
cannot hide itself by also choosing what is tested. Standard library only:
it runs inside the corpus root (corpus_probe.py) and on the host."""

import bisect
import os
import random
import re
from collections import namedtuple

PHP_KEYWORDS = ("require", "require_once", "include", "include_once")
PHP_FILE = re.compile(r"^[\w./\\-]*[\w-]\.(php|inc|phtml)$")
_NOT_BEFORE_KEYWORD = ("->", "?->", "::", "function", "const", "new", "$", "fn", "case", "\\")

# A require (or include) as written: its keyword's line, the keyword, its
# expression, and the string literal holding a file name (offsets in the
# file, the literal's line and its value without quotes).
RequireSite = namedtuple("RequireSite", "file line keyword expression literal_start literal_end literal_line literal")
# A path in a web-server config that the server needs: the directive's line,
# its name, the kind of reference, the text to change (offsets in the file)
# and what it becomes.
ConfigSite = namedtuple("ConfigSite", "file line directive kind start end old new")
Token = namedtuple("Token", "kind value start end line")


# PHP ------------------------------------------------------------------------

_PHP_TOKEN = re.compile(r"""
 (?P<blank>\s+)
|(?P<close>\?>)
|(?P<comment>(?://|\#(?!\[))[^\n?]*(?:\?(?!>)[^\n?]*)*|/\*.*?(?:\*/|\Z))
|(?P<sq>'(?:[^'\\]|\\.)*(?:'|\Z))
|(?P<dq>"(?:[^"\\]|\\.)*(?:"|\Z))
|(?P<bq>`(?:[^`\\]|\\.)*(?:`|\Z))
|(?P<heredoc><<<[ \t]*(['"]?)([A-Za-z_]\w*)(?P=quote_dummy)?)
|(?P<var>\$[^\W\d]\w*)
|(?P<name>[^\W\d][\w\\]*|\\[^\W\d][\w\\]*)
|(?P<number>\d[\w.]*)
|(?P<op>\?->|->|::|=>|\?\?|\.\.\.|.)
""".replace("(?P=quote_dummy)?", r"\8\r?\n"), re.S | re.X)
_MAY_INCLUDE = re.compile(r"require|include", re.I)
_OPEN_TAG = re.compile(r"<\?(?:php|=)?", re.I)


def php_tokens(text):
    """Tokens of the PHP code in ``text`` (inline HTML skipped): ``name``,
    ``var``, ``string`` (value without quotes, None when it interpolates or
    escapes), ``number``, ``op``; comments and blanks dropped. Lines count
    from 1."""
    newlines = [match.start() for match in re.finditer("\n", text)]
    tokens = []
    length = len(text)
    pos = 0
    while pos < length:
        opening = _OPEN_TAG.search(text, pos)
        if opening is None:
            break
        pos = opening.end()
        while pos < length:
            match = _PHP_TOKEN.match(text, pos)
            kind = match.lastgroup
            end = match.end()
            if kind == "close":
                pos = end
                break
            if kind == "heredoc":
                closing = re.compile(r"^[ \t]*%s\b" % re.escape(match.group(9)), re.M).search(text, end)
                end = length if closing is None else closing.end()
                tokens.append(Token("string", None, pos, end, 0))
            elif kind in ("sq", "dq", "bq"):
                raw = text[pos + 1:end - 1]
                value = None
                if kind == "sq":
                    value = raw.replace("\\\\", "\\").replace("\\'", "'")
                elif kind == "dq" and "\\" not in raw and "$" not in raw and "{" not in raw:
                    value = raw
                tokens.append(Token("string", value, pos, end, 0))
            elif kind not in ("blank", "comment"):
                tokens.append(Token(kind, match.group(kind), pos, end, 0))
            pos = end
    return [token._replace(line=bisect.bisect_left(newlines, token.start) + 1) for token in tokens]


def require_sites(text, file, keywords=PHP_KEYWORDS):
    """Every include/require in ``text`` (of ``file``) with a string literal
    that names a PHP file (``'/wp-load.php'``, ``'inc/init.php'``): the last
    such literal of its expression."""
    sites = []
    if not _MAY_INCLUDE.search(text):
        return sites
    tokens = php_tokens(text)
    for index, token in enumerate(tokens):
        if token.kind != "name" or token.value.lower() not in keywords:
            continue
        if index and tokens[index - 1].value in _NOT_BEFORE_KEYWORD:
            continue
        depth = 0
        end = index + 1
        literal = None
        while end < len(tokens):
            current = tokens[end]
            if current.kind == "op":
                if current.value in ("(", "["):
                    depth += 1
                elif current.value in (")", "]"):
                    if depth == 0:
                        break
                    depth -= 1
                elif depth == 0 and current.value in (";", ",", "?", ":", "}", "{"):
                    break
            elif current.kind == "name" and depth == 0 and current.value.lower() in ("or", "and", "xor"):
                break
            if current.kind == "string" and current.value and PHP_FILE.match(current.value.replace("\\", "/")):
                literal = current
            end += 1
        if literal is None or end == index + 1:
            continue
        expression = text[tokens[index + 1].start:tokens[end - 1].end]
        sites.append(RequireSite(file, token.line, token.value.lower(), " ".join(expression.split()),
                                 literal.start, literal.end, literal.line, literal.value))
    return sites


def mutated_literal(literal):
    """The file name of ``literal`` with an ``x`` before its extension:
    ``'/wp-load.php'`` -> ``'/wp-loadx.php'``."""
    head, dot, extension = literal.rpartition(".")
    return head + "x" + dot + extension


def literal_tail(literal):
    """The part of a literal path a file's path must end with: the literal
    without leading ``./``, ``../`` and ``/``."""
    tail = literal.replace("\\", "/")
    while True:
        stripped = re.sub(r"^(\./|\.\./|/)", "", tail)
        if stripped == tail:
            return tail
        tail = stripped


class TailIndex:
    """The files of a tree by their last component, to find those a literal
    tail may name."""

    def __init__(self, files):
        self.by_name = {}
        for path in files:
            self.by_name.setdefault(os.path.basename(path), []).append(path)

    def matches(self, tail):
        tail = "/" + tail
        return [path for path in self.by_name.get(os.path.basename(tail), ()) if path.endswith(tail)]


def targets(site, index, exists, include_path=("/usr/share/php",), max_matches=3):
    """The existing files a site's literal may name: resolved from the
    including file's folder, as an absolute path, through ``include_path``,
    or else the files of the tree its tail ends (when at most
    ``max_matches`` do, so that ``'/autoload.php'`` names none)."""
    literal = site.literal.replace("\\", "/")
    folder = os.path.dirname(site.file)
    found = [os.path.normpath(os.path.join(folder, literal.lstrip("/")))]
    if literal.startswith("/"):
        found.append(os.path.normpath(literal))
    elif not literal.startswith("."):
        found += [os.path.normpath(os.path.join(entry, literal)) for entry in include_path]
    found = [path for path in found if exists(path)]
    if found:
        return found[:1]
    if "/../" in "/" + literal:
        # It climbs out of a prefix the literal does not show.
        return []
    tail = literal_tail(literal)
    matches = index.matches(tail)
    # A bare name (LIBDIR . 'functions.php') names the one file of the tree
    # that has it; with folders, up to max_matches may be meant.
    return matches if len(matches) <= (max_matches if "/" in tail else 1) else []


def reachable(sites_of, entrypoints, index, exists):
    """Files reached from ``entrypoints`` through the literal file names of
    include/require statements (``sites_of(path)`` gives a file's sites;
    targets() says where each leads). An over- and under-approximation both
    (autoloaded classes are not followed), used to break only statements
    that run on a request."""
    queue = [path for path in entrypoints if exists(path)]
    seen = set(queue)
    while queue:
        current = queue.pop()
        for site in sites_of(current):
            for target in targets(site, index, exists):
                if target not in seen:
                    seen.add(target)
                    queue.append(target)
    return seen


def pick(candidates, count, seed, key, per_group=2, group=lambda item: item):
    """``count`` of ``candidates``, the same for the same seed and key:
    shuffled by a generator seeded with both, at most ``per_group`` of a
    group (a file, a kind of directive) while others are left."""
    ordered = sorted(candidates)
    random.Random("%s:%s" % (key, seed)).shuffle(ordered)
    chosen = []
    taken = {}
    for limit in (per_group, None):
        for item in ordered:
            if len(chosen) >= count:
                return chosen
            if item in chosen:
                continue
            name = group(item)
            if limit is not None and taken.get(name, 0) >= limit:
                continue
            taken[name] = taken.get(name, 0) + 1
            chosen.append(item)
    return chosen


def php_mutants(sources, entrypoints, count, seed, key, exists=os.path.exists, read=None, stats=None):
    """The require statements to break: ``sources`` maps each PHP file of the
    tree to its text, ``read(path)`` gives the text of a file outside it.
    With ``entrypoints``, only statements in files reached from them (any
    folder); without (a library), any of the tree. A candidate is a
    ``require``/``require_once`` whose literal names an existing file and
    whose broken name no file has. Returns [(site, new text of the
    literal, whether reached from an entry point)]; ``stats`` (a dict), when
    given, gets the number of candidates and of files reached."""
    sites = {}

    def sites_of(path):
        if path not in sites:
            text = sources.get(path)
            if text is None and read is not None:
                text = read(path)
            sites[path] = require_sites(text, path) if text else []
        return sites[path]

    index = TailIndex(sources)
    reached = reachable(sites_of, entrypoints, index, exists) if entrypoints else None
    candidates = []
    for path in sorted(reached if reached is not None else sources):
        for site in sites_of(path):
            if site.keyword not in ("require", "require_once") or not targets(site, index, exists):
                continue
            broken = mutated_literal(site.literal).replace("\\", "/")
            if index.matches(os.path.basename(broken)) or exists(
                    os.path.normpath(os.path.join(os.path.dirname(path), broken.lstrip("/")))):
                continue
            candidates.append(site)
    if stats is not None:
        stats.update(candidates=len(candidates), reached_files=None if reached is None else len(reached))
    chosen = pick(candidates, count, seed, key, group=lambda site: site.file)
    return [(site, _requote(site, mutated_literal(site.literal)), reached is not None) for site in chosen]


def _requote(site, value):
    return "'%s'" % value.replace("\\", "\\\\").replace("'", "\\'")


def apply_edit(text, start, end, new):
    """``text`` with ``text[start:end]`` replaced by ``new``; no line moves."""
    if "\n" in new or text[start:end].count("\n"):
        raise ValueError("an edit must stay on its line")
    return text[:start] + new + text[end:]


# Web-server configs -----------------------------------------------------------

def nginx_directives(text):
    """(name, [(value, start, end, line)], line) of each nginx directive,
    block openers included, comments skipped."""
    directives = []
    current = []
    pos = 0
    line = 1
    length = len(text)
    while pos < length:
        char = text[pos]
        if char == "\n":
            line += 1
            pos += 1
        elif char.isspace():
            pos += 1
        elif char == "#":
            while pos < length and text[pos] != "\n":
                pos += 1
        elif char in ";{}":
            if current:
                directives.append((current[0][0], current[1:], current[0][3]))
            current = []
            pos += 1
        elif char in "'\"":
            end = pos + 1
            while end < length and text[end] != char:
                end += 2 if text[end] == "\\" else 1
            current.append((text[pos + 1:end], pos + 1, end, line))
            line += text.count("\n", pos, end)
            pos = end + 1
        else:
            end = pos
            while end < length and not text[end].isspace() and text[end] not in ";{}" and \
                    not (text[end] == "#" and end == pos):
                if text[end] == "$" and end + 1 < length and text[end + 1] == "{":
                    end = text.find("}", end) + 1 or length
                    continue
                end += 1
            current.append((text[pos:end], pos, end, line))
            pos = end
    return directives


def apache_directives(text):
    """(name, [(value, start, end, line)], line, sections) of each Apache
    directive and section opener (``<Directory`` as ``Directory``), comments
    skipped; ``sections`` are the (name, arguments) of the sections it is in."""
    directives = []
    offset = 0
    line_number = 0
    lines = text.split("\n")
    index = 0
    stack = []
    while index < len(lines):
        first = line_number + 1
        raw = lines[index]
        parts = [(raw, offset, line_number + 1)]
        offset += len(raw) + 1
        line_number += 1
        index += 1
        while raw.rstrip().endswith("\\") and index < len(lines):
            raw = lines[index]
            parts.append((raw, offset, line_number + 1))
            offset += len(raw) + 1
            line_number += 1
            index += 1
        words = []
        for content, base, number in parts:
            for match in re.finditer(r'"((?:[^"\\]|\\.)*)"|\'([^\']*)\'|([^\s"\']+)', content):
                if match.group(3) is not None and match.group(3) == "\\" and match.end() == len(content.rstrip()):
                    continue
                group = 1 if match.group(1) is not None else 2 if match.group(2) is not None else 3
                words.append((match.group(group), base + match.start(group), base + match.end(group), number))
        if not words or words[0][0].startswith("#"):
            continue
        name = words[0][0]
        if name.startswith("</"):
            if stack:
                stack.pop()
            continue
        opener = name.startswith("<")
        if opener:
            name = name[1:].rstrip(">")
            words = words[:1] + [(value.rstrip(">"), s, e - (1 if value.endswith(">") else 0), n)
                                 for value, s, e, n in words[1:]]
            words = [word for word in words if word[0]]
        directives.append((name, words[1:], first, tuple(stack)))
        if opener:
            stack.append((name, tuple(word[0] for word in words[1:])))
    return directives


# Modules compiled into Debian's apache2 (apache2 -l).
APACHE_STATIC = ("core", "so", "watchdog", "http", "log_config", "logio", "version", "unixd")


def apache_active(modules, version=(2, 4)):
    """Whether a section is in effect for a server with ``modules`` loaded
    (names as in ``proxy_fcgi``) and of ``version``: ``<IfModule>`` and
    ``<IfVersion>`` are decided, every other section is in effect."""
    loaded = set(modules) | set(APACHE_STATIC)

    def active(name, args):
        lower = name.lower()
        if lower == "ifmodule" and args:
            wanted = args[0]
            negated = wanted.startswith("!")
            wanted = wanted.lstrip("!")
            module = re.sub(r"^mod_|\.c$|_module$", "", wanted)
            if module.startswith("php"):
                module = "php" if module in ("php", "php5", "php7", "php8") else module
            return (module in loaded) != negated
        if lower == "ifversion" and args:
            match = re.match(r"^(!?)(=|==|>=|>|<=|<)?$", args[0]) if len(args) > 1 else None
            operator, wanted = (match.group(2) or "=", args[1]) if match else ("=", args[0])
            negated = bool(match and match.group(1))
            numbers = tuple(int(part) for part in re.findall(r"\d+", wanted))
            mine = version[:len(numbers)]
            outcome = {"=": mine == numbers, "==": mine == numbers, ">=": mine >= numbers, ">": mine > numbers,
                       "<=": mine <= numbers, "<": mine < numbers}[operator]
            return outcome != negated
        return True
    return active


def _break_last_component(path):
    """``/usr/share/wordpress`` -> ``/usr/share/wordpressx``; a file keeps
    its extension (``index.php`` -> ``indexx.php``). The static part before
    any variable is what changes."""
    static = re.split(r"[$?]", path, maxsplit=1)[0]
    rest = path[len(static):]
    trailing = ""
    while static.endswith("/") and len(static) > 1:
        static, trailing = static[:-1], trailing + "/"
    if not static or static.endswith("/"):
        return None
    name = static.rsplit("/", 1)[-1]
    if "." in name.strip(".") and not name.startswith("."):
        head, dot, extension = static.rpartition(".")
        broken = head + "x" + dot + extension
    else:
        broken = static + "x"
    return broken + trailing + rest


_NGINX_PATH_KINDS = {
    "root": "root", "alias": "alias", "include": "include", "ssl_certificate": "ssl",
    "ssl_certificate_key": "ssl", "error_page": "error_page", "try_files": "try_files", "index": "index",
}


def nginx_sites(text, file):
    """The path references of an nginx config that a typo can break, each
    with its broken form."""
    sites = []
    for name, args, line in nginx_directives(text):
        kind = _NGINX_PATH_KINDS.get(name)
        values = list(args)
        if name in ("fastcgi_pass", "proxy_pass", "uwsgi_pass", "scgi_pass", "server") and values \
                and values[0][0].startswith("unix:"):
            value, start, end, arg_line = values[0]
            path = value[len("unix:"):].split("|", 1)[0]
            broken = _break_last_component(path)
            if broken:
                sites.append(ConfigSite(file, line, name, "socket", start + 5, start + 5 + len(path), path, broken))
        elif name == "fastcgi_param" and len(values) >= 2 and values[0][0] == "SCRIPT_FILENAME":
            value, start, end, arg_line = values[1]
            if re.search(r"/[\w.-]+\.php$", value):
                broken = value[:value.rfind(".php")] + "x.php"
            else:
                match = re.match(r"^(\$\w+|\$\{\w+\})", value)
                if not match or match.end() == len(value):
                    continue
                broken = value[:match.end()] + "/x" + value[match.end():]
            sites.append(ConfigSite(file, line, name, "script_filename", start, end, value, broken))
        elif kind in ("root", "alias", "include", "ssl") and values:
            value, start, end, arg_line = values[0]
            if "*" in value or value.startswith("$") or value.startswith("data:"):
                continue
            broken = _break_last_component(value)
            if broken:
                sites.append(ConfigSite(file, line, name, kind, start, end, value, broken))
        elif kind == "try_files" and len(values) >= 2:
            value, start, end, arg_line = values[-1]
            if value.startswith("/") and re.match(r"^/[\w./-]*\.php", value):
                broken = _break_last_component(value)
                if broken:
                    sites.append(ConfigSite(file, line, name, kind, start, end, value, broken))
        elif kind == "error_page" and len(values) >= 2:
            value, start, end, arg_line = values[-1]
            if re.match(r"^/[\w./-]*\.\w+$", value):
                sites.append(ConfigSite(file, line, name, kind, start, end, value, _break_last_component(value)))
        elif kind == "index" and values and all("$" not in value for value, *dummy in values):
            # Every name of the list, so that none of them exists.
            first, last = values[0], values[-1]
            old = text[first[1]:last[2]]
            new = " ".join(_break_last_component(value) or value + "x" for value, *dummy in values)
            if first[3] == last[3]:
                sites.append(ConfigSite(file, line, name, kind, first[1], last[2], old, new))
    return sites


_APACHE_PATH_KINDS = {
    "documentroot": ("document_root", 0), "alias": ("alias", 1), "scriptalias": ("alias", 1),
    "aliasmatch": ("alias", 1), "scriptaliasmatch": ("alias", 1), "include": ("include", 0),
    "sslcertificatefile": ("ssl", 0), "sslcertificatekeyfile": ("ssl", 0), "fallbackresource": ("fallback", 0),
}


def apache_sites(text, file, active=None):
    """The path references of an Apache config that a typo can break, leaving
    out those in sections not in effect (``active(name, args)`` decides)."""
    sites = []
    for name, args, line, sections in apache_directives(text):
        if active is not None and not all(active(section, values) for section, values in sections):
            continue
        lower = name.lower()
        if lower in _APACHE_PATH_KINDS:
            kind, position = _APACHE_PATH_KINDS[lower]
            if len(args) <= position:
                continue
            value, start, end, arg_line = args[position]
            if "*" in value or (kind == "fallback" and not value.startswith("/")):
                continue
            broken = _break_last_component(value)
            if broken:
                sites.append(ConfigSite(file, line, name, kind, start, end, value, broken))
        elif lower in ("sethandler", "proxypassmatch", "proxypass") and args:
            for value, start, end, arg_line in args:
                match = re.search(r"unix:(/[^|]+)", value)
                if match:
                    broken = _break_last_component(match.group(1))
                    if broken:
                        sites.append(ConfigSite(file, line, name, "socket", start + match.start(1),
                                                start + match.end(1), match.group(1), broken))
        elif lower == "directoryindex" and args and all("$" not in value for value, *dummy in args):
            if args[0][0].lower() == "disabled" or args[0][3] != args[-1][3]:
                continue
            old = text[args[0][1]:args[-1][2]]
            new = " ".join(_break_last_component(value) or value + "x" for value, *dummy in args)
            sites.append(ConfigSite(file, line, name, "index", args[0][1], args[-1][2], old, new))
        elif lower == "errordocument" and len(args) >= 2 and re.match(r"^/[\w./-]*\.\w+$", args[-1][0]):
            value, start, end, arg_line = args[-1]
            sites.append(ConfigSite(file, line, name, "error_document", start, end, value,
                                    _break_last_component(value)))
        elif lower in ("php_admin_value", "php_value") and len(args) >= 2 \
                and args[0][0] in ("auto_prepend_file", "auto_append_file") and args[1][0].startswith("/"):
            value, start, end, arg_line = args[1]
            sites.append(ConfigSite(file, line, name, "ini_file", start, end, value, _break_last_component(value)))
    return sites


def config_mutants(text, file, server, count, seed, key, active=None):
    """The directives of one config to break, spread over their kinds."""
    sites = nginx_sites(text, file) if server == "nginx" else apache_sites(text, file, active)
    sites = [site for site in sites if site.new and site.new != site.old]
    return pick(sites, count, seed, key, per_group=2, group=lambda site: site.kind)


# Judging --------------------------------------------------------------------

def finding_key(finding):
    return (finding.get("file"), finding.get("line"), finding.get("message"))


def judge(pristine, mutant, file, lines):
    """Whether a tool caught a break at ``file`` on one of ``lines``: an error
    finding there that the pristine tree did not have. Returns (caught, the
    finding that caught it or None, the findings at those lines of any
    severity, for naming what defeated the tool)."""
    before = {finding_key(finding) for finding in pristine if finding.get("severity") == "error"}
    at_site = [finding for finding in mutant if finding.get("file") == file and finding.get("line") in lines]
    for finding in at_site:
        if finding.get("severity") == "error" and finding_key(finding) not in before:
            return True, finding, at_site
    return False, None, at_site


def miss_reason(at_site, pristine_has_error, scanned=True):
    """One phrase for why a mutant was missed, from what the tool said at its
    line and whether it read the file at all."""
    if pristine_has_error:
        return "an error was already reported at that line on the pristine tree"
    if not at_site:
        return "no finding at that line" if scanned else "the file was not scanned"
    finding = at_site[0]
    return "only %s: %s" % (finding.get("severity"), finding.get("message"))


_PATHISH = re.compile(r"(/[\w.@+%-]+)+/?")


def message_shape(message):
    """A finding's message with its paths and numbers taken out, to group
    findings that come from the same construct."""
    shape = _PATHISH.sub("<path>", message or "")
    shape = re.sub(r"'[^']*'|\"[^\"]*\"", "<literal>", shape)
    return re.sub(r"\d+", "N", shape)
