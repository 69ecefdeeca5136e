#!/usr/bin/env python3
"""Format zoo: a held-out test set of real-world log formats with ground-truth templates.

Deterministic (fixed seed), Python 3 standard library only.  For every format NAME it writes

    NAME/NAME.log                   the raw log, in the format's own layout and line ending
    NAME/NAME.log_structured.csv    LineId,Content,EventId,EventTemplate  (Loghub convention)

and README.md describing every format.  Run:  python3 tests/logzoo/generate.py

How a format is described
-------------------------
A format is a list of message *items*.  An item is one message template (T) or a short sequence of
templates that happen together (S, e.g. a request's start and end, or a startup banner).  Message
templates are written with slots:

    «gen» / «gen:arg»     a variable: a value is drawn from generator `gen`, the template gets <*>
    «a|b|c»               a variable drawn from the literal choices (template gets <*>)
    «$k=gen:arg» / «$k»   bind a value to k / reuse it later in the same sequence (still <*>)
    «!a|b|c» «!gen:arg»   a *constant* choice: the value is kept literally in the template, so
                          each value yields its own template (e.g. GET vs POST, SOFT vs HARD)

The message text is the CSV's Content; each format's `line` function wraps it in the format's own
header (timestamp, level, pid, host, JSON envelope ...), and each format's `extract` function parses
the written line back to Content: the generator checks that round trip for every line, checks that
every Content matches its own EventTemplate, and reports Contents that another template of the same
file would also match.
"""
import csv
import json
import os
import random
import re
import string
import sys
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20261204

MON = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
DOW = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun']

# ----------------------------------------------------------------------------------------------
# value pools and generators
# ----------------------------------------------------------------------------------------------
POOLS = {
    'user': ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy',
             'mallory', 'oscar', 'peggy', 'trent', 'victor', 'walter', 'deploy', 'ubuntu',
             'ec2-user', 'ansible', 'svc-backup', 'jdoe', 'mchen', 'priya', 'tkowalski', 'lgarcia'],
    'bad_user': ['admin', 'test', 'oracle', 'postgres', 'user', 'guest', 'ftpuser', 'pi', 'git',
                 'support', 'ubnt', 'hadoop', 'minecraft', 'teamspeak', 'nagios', 'deployer'],
    'domain': ['example.com', 'mail.example.org', 'acme-corp.io', 'gmail.com', 'outlook.com',
               'yahoo.co.uk', 'fastmail.fm', 'contoso.net', 'initech.biz', 'globex.de'],
    'first': ['anna', 'ben', 'chloe', 'daniel', 'emma', 'felix', 'gina', 'hugo', 'iris', 'jonas',
              'kate', 'liam', 'maya', 'noah', 'olga', 'paul', 'quinn', 'rosa', 'sam', 'tara'],
    'last': ['smith', 'mueller', 'garcia', 'nguyen', 'rossi', 'kowalski', 'tanaka', 'silva',
             'dubois', 'obrien', 'jensen', 'novak', 'haddad', 'kumar', 'larsen', 'moreau'],
    'ua_browser': [
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
        'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
        'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
        'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
        'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36',
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0',
    ],
    'ua_client': ['curl/8.5.0', 'curl/7.81.0', 'python-requests/2.32.3', 'Go-http-client/1.1',
                  'okhttp/4.12.0', 'axios/1.7.7', 'Java/17.0.9', 'PostmanRuntime/7.42.0'],
    'ua_bot': ['Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
               'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)',
               'Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)',
               'Mozilla/5.0 zgrab/0.x', 'Mozilla/5.0 (l9scan/2.0.; +https://leakix.net)',
               'Mozilla/5.0 (compatible; CensysInspect/1.1; +https://about.censys.io/)'],
    'currency': ['EUR', 'USD', 'GBP', 'CHF', 'SEK'],
    'topic': ['orders', 'payments', 'inventory-events', 'user-signups', 'shipment-updates',
              'audit-log', 'email-outbox', 'clickstream'],
    'cgroup': ['orders-service', 'payments-consumer', 'fraud-scorer', 'shipping-sync',
               'analytics-loader', 'email-dispatcher', 'search-indexer'],
    'table': ['orders', 'order_items', 'customers', 'payments', 'shipments', 'inventory',
              'audit_events', 'sessions', 'products', 'invoices'],
    'db': ['shop', 'billing', 'analytics', 'auth', 'inventory'],
    'dbuser': ['app', 'app_ro', 'billing_svc', 'etl', 'grafana', 'replicator', 'django', 'metabase'],
    'appname': ['psql', 'orders-api', 'billing-worker', 'pg_dump', 'metabase', 'PostgreSQL JDBC Driver', 'airflow'],
    'ns': ['default', 'prod', 'payments', 'monitoring', 'kube-system', 'ingress-nginx'],
    'deploy': ['web', 'api', 'checkout', 'cart', 'worker', 'search', 'notifier', 'frontend'],
    'bucket': ['acme-raw-events', 'acme-exports', 'data-lake-prod', 'ml-features', 'backups-eu-west-1'],
    'category': ['shoes', 'jackets', 'electronics', 'kitchen', 'garden', 'toys', 'books', 'sports'],
    'word': ['sku', 'qty', 'coupon', 'customer_id', 'shipping', 'token', 'locale', 'page'],
    'player': ['Steve_Builds', 'xX_Creeper_Xx', 'Notch_fan99', 'lunaMoonwalker', 'EnderPearl42',
               'redstone_rita', 'BlockMcBlockface', 'diamond_dan', 'PixelPanda', 'kai_crafts',
               'SkeletonKing', 'mossy_cobble', 'TNTtom', 'glowsquid_gina'],
}


class Ctx:
    """Generation context: the random source, current log time, per-format state, bound vars."""

    def __init__(self, rng, st):
        self.rng = rng
        self.st = st
        self.now = None
        self.vars = {}

    # small helpers usable from line/generator functions
    def r(self, a, b):
        return self.rng.randint(a, b)

    def ch(self, seq):
        return self.rng.choice(seq)

    def skewed(self, seq, s=1.3):
        """Pick with a Zipf-like skew towards the front of seq (some hosts/users are busier)."""
        w = [1.0 / (i + 1) ** s for i in range(len(seq))]
        return self.rng.choices(seq, weights=w)[0]


GEN = {}


def gen(name):
    def deco(f):
        GEN[name] = f
        return f
    return deco


def _rng_hex(c, n, upper=False):
    s = ''.join(c.rng.choice('0123456789abcdef') for _ in range(n))
    return s.upper() if upper else s


@gen('i')
def _g_int(c, arg):
    a, b = arg.split('-')
    return str(c.r(int(a), int(b)))


@gen('f')
def _g_float(c, arg):
    rng_, p = arg.split(':') if ':' in arg else (arg, '3')
    a, b = rng_.split('-')
    return f'{c.rng.uniform(float(a), float(b)):.{int(p)}f}'


@gen('lf')  # log-uniform float, for latencies: lf:0.5-5000:3
def _g_logfloat(c, arg):
    rng_, p = arg.split(':') if ':' in arg else (arg, '3')
    a, b = (float(x) for x in rng_.split('-'))
    import math
    v = math.exp(c.rng.uniform(math.log(a), math.log(b)))
    return f'{v:.{int(p)}f}'


@gen('li')  # log-uniform int: li:1-100000
def _g_logint(c, arg):
    import math
    a, b = (float(x) for x in arg.split('-'))
    return str(int(math.exp(c.rng.uniform(math.log(a), math.log(b)))))


@gen('hex')
def _g_hex(c, arg):
    return _rng_hex(c, int(arg))


@gen('HEX')
def _g_HEX(c, arg):
    return _rng_hex(c, int(arg), True)


@gen('an')
def _g_an(c, arg):
    return ''.join(c.rng.choice(string.ascii_lowercase + string.digits) for _ in range(int(arg)))


@gen('AN')
def _g_AN(c, arg):
    return ''.join(c.rng.choice(string.ascii_letters + string.digits) for _ in range(int(arg)))


@gen('b64')
def _g_b64(c, arg):
    return ''.join(c.rng.choice(string.ascii_letters + string.digits + '+/') for _ in range(int(arg)))


@gen('uuid')
def _g_uuid(c, arg=None):
    h = _rng_hex(c, 32)
    h = h[:12] + '4' + h[13:16] + c.rng.choice('89ab') + h[17:]
    return f'{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}'


@gen('ip')
def _g_ip(c, arg=None):
    k = c.rng.random()
    if k < 0.6:
        return f'10.{c.r(0, 3)}.{c.r(0, 255)}.{c.r(2, 254)}'
    if k < 0.8:
        return f'172.{c.r(16, 31)}.{c.r(0, 255)}.{c.r(2, 254)}'
    return f'192.168.{c.r(0, 20)}.{c.r(2, 254)}'


PUBLIC_FIRST = [23, 31, 34, 37, 45, 46, 52, 62, 66, 77, 78, 81, 89, 91, 103, 104, 109, 118, 139,
                142, 151, 159, 176, 178, 185, 188, 193, 195, 203, 212, 213, 217]


@gen('pip')
def _g_pip(c, arg=None):
    return f'{c.ch(PUBLIC_FIRST)}.{c.r(0, 255)}.{c.r(0, 255)}.{c.r(1, 254)}'


@gen('port')
def _g_port(c, arg=None):
    return str(c.r(32768, 60999))


@gen('email')
def _g_email(c, arg=None):
    return f'{c.ch(POOLS["first"])}.{c.ch(POOLS["last"])}@{c.ch(POOLS["domain"])}'


@gen('pick')
def _g_pick(c, arg):
    return c.ch(arg.split('|'))


@gen('ts')  # the current log time, in a strftime format; %3 = milliseconds, %6 = micros
def _g_ts(c, arg):
    return tfmt(c.now, arg)


@gen('tsago')  # some time before now (minutes to hours)
def _g_tsago(c, arg):
    return tfmt(c.now - timedelta(seconds=c.r(40, 5 * 3600), microseconds=c.r(0, 999999)), arg)


@gen('tsnext')  # some time after now
def _g_tsnext(c, arg):
    return tfmt(c.now + timedelta(seconds=c.r(30, 3 * 3600), microseconds=c.r(0, 999999)), arg)


@gen('epoch')
def _g_epoch(c, arg=None):
    return str(int(epoch(c.now)) - c.r(0, 3))


@gen('gdur')  # Go time.Duration String()
def _g_gdur(c, arg=None):
    k = c.rng.random()
    if k < 0.3:
        return gdur(c.rng.uniform(0.00002, 0.001))
    if k < 0.95:
        return gdur(c.rng.uniform(0.001, 1.0))
    return gdur(c.rng.uniform(1, 20))


def gdur(sec):
    if sec < 0.001:
        return f'{sec * 1e6:.3f}'.rstrip('0').rstrip('.') + 'µs'
    if sec < 1:
        return f'{sec * 1e3:.6f}'.rstrip('0').rstrip('.') + 'ms'
    if sec < 60:
        return f'{sec:.9f}'.rstrip('0').rstrip('.') + 's'
    m = int(sec // 60)
    return f'{m}m' + (f'{sec - 60 * m:.6f}'.rstrip('0').rstrip('.') + 's')


def tfmt(t, f):
    f = f.replace('%3', f'{t.microsecond // 1000:03d}').replace('%6', f'{t.microsecond:06d}')
    f = f.replace('%b', MON[t.month - 1]).replace('%a', DOW[t.weekday()])
    f = f.replace('%e', f'{t.day:2d}')
    return t.strftime(f)


def epoch(t):
    return t.replace(tzinfo=timezone.utc).timestamp()


def lookup(c, name, arg):
    if name in GEN:
        return GEN[name](c, arg)
    if name in POOLS:
        return c.ch(POOLS[name])
    raise KeyError(f'unknown generator {name!r}')


SLOT_RE = re.compile(r'«([^«»]*)»')


def eval_slot(spec, c):
    """Returns (value, is_variable)."""
    const = spec.startswith('!')
    if const:
        spec = spec[1:]
    bind = None
    if spec.startswith('$'):
        key, eq, rest = spec[1:].partition('=')
        if not eq:
            return c.vars[key], True
        bind, spec = key, rest
    name, colon, arg = spec.partition(':')
    if colon and (name in GEN or name in POOLS):
        val = lookup(c, name, arg)
    elif '|' in spec:
        val = c.ch(spec.split('|'))
    else:
        val = lookup(c, spec, None)
    if bind:
        c.vars[bind] = val
    return val, not const


def render(tpl, c):
    msg, tem, pos = [], [], 0
    for m in SLOT_RE.finditer(tpl):
        lit = tpl[pos:m.start()]
        msg.append(lit)
        tem.append(lit)
        val, var = eval_slot(m.group(1), c)
        msg.append(val)
        tem.append('<*>' if var else val)
        pos = m.end()
    msg.append(tpl[pos:])
    tem.append(tpl[pos:])
    return ''.join(msg), ''.join(tem)


# ----------------------------------------------------------------------------------------------
# items and formats
# ----------------------------------------------------------------------------------------------
def T(w, msg, **meta):
    """One message template with weight w; meta goes to the format's line function."""
    return {'w': w, 'seq': [(msg, meta)], 'min': meta.pop('min', 2), 'first': meta.pop('first', False),
            'gap': None}


def S(w, *ts, **opts):
    """A sequence of templates emitted together (shared «$vars»), a small time gap apart."""
    seq = []
    for t in ts:
        seq.extend(t['seq'])
    return {'w': w, 'seq': seq, 'min': opts.get('min', 2), 'first': opts.get('first', False),
            'gap': opts.get('gap', (0.001, 0.4))}


FORMATS = []


def fmt(name, *, n, start, days, eol='\n', title='', source='', header='', content='', notes=''):
    def deco(fn):
        FORMATS.append(dict(name=name, n=n, start=start, days=days, eol=eol, title=title,
                            source=source, header=header, content=content, notes=notes, build=fn))
        return fn
    return deco


def plan(items, n, rng):
    """Choose the item sequence: every item at least `min` times, the rest by weight."""
    picks = []
    for it in items:
        picks += [it] * it['min']
    total = sum(len(it['seq']) for it in picks)
    weights = [it['w'] for it in items]
    while total < n:
        it = rng.choices(items, weights=weights)[0]
        picks.append(it)
        total += len(it['seq'])
    rng.shuffle(picks)
    firsts = [it for it in items if it['first']]
    for it in firsts:  # a start-up item opens the log (it also recurs later, as restarts)
        picks.remove(it)
    return firsts + picks


def next_gap(rng, mean):
    k = rng.random()
    if k < 0.22:
        return rng.uniform(0.0005, 1.5)
    if k < 0.97:
        return rng.expovariate(1.0 / mean)
    return rng.expovariate(1.0 / (mean * 6))


def run_format(F, rng):
    st = {}
    c = Ctx(rng, st)
    spec = F['build'](c)
    items, line_fn, extract = spec['items'], spec['line'], spec['extract']
    picks = plan(items, F['n'], rng)
    mean = F['days'] * 86400.0 / max(len(picks), 1)  # gaps are between items
    t = F['start']
    rows = []  # (line, content, template)
    for it in picks:
        t = t + timedelta(seconds=next_gap(rng, mean))
        c.vars = {}
        for k, (tpl, meta) in enumerate(it['seq']):
            if k:
                lo, hi = it['gap']
                t = t + timedelta(seconds=rng.uniform(lo, hi))
            c.now = t
            msg, tem = render(tpl, c)
            line = line_fn(c, t, msg, meta)
            rows.append((line, msg, tem))
    return rows, extract


def wild_match(tem, s, nonempty=False):
    """Does s match template tem, each <*> standing for any (non-empty) string?  Leftmost
    matching of each literal piece is exact for this pattern class, and fast."""
    parts = tem.split('<*>')
    if len(parts) == 1:
        return s == tem
    if not s.startswith(parts[0]):
        return False
    step = 1 if nonempty else 0
    pos = len(parts[0])
    for p in parts[1:-1]:
        k = s.find(p, pos + step)
        if k < 0:
            return False
        pos = k + len(p)
    return len(s) - len(parts[-1]) >= pos + step and s.endswith(parts[-1])


def check(F, rows, extract):
    problems, ambiguous = [], 0
    tems = []
    for _, _, tem in rows:
        if tem not in tems:
            tems.append(tem)
    amb_examples = []
    for i, (line, msg, tem) in enumerate(rows, 1):
        if '\n' in msg or '\r' in msg or '\n' in line or '\r' in line:
            problems.append(f'line {i}: embedded newline')
        got = extract(line)
        if got != msg:
            problems.append(f'line {i}: extract mismatch\n  line={line!r}\n  got ={got!r}\n  want={msg!r}')
        if not wild_match(tem, msg):
            problems.append(f'line {i}: content does not match its template')
        others = [tm for tm in tems if tm != tem and wild_match(tm, msg, True)]
        if others:
            ambiguous += 1
            if len(amb_examples) < 3:
                amb_examples.append((msg, tem, others[0]))
    if not 8 <= len(tems) <= 30:
        problems.append(f'{len(tems)} templates (want 8-30)')
    if len(rows) < 250:
        problems.append(f'{len(rows)} lines (want >= 250)')
    return problems, ambiguous, amb_examples, tems


def write_format(F, rows, tems):
    d = os.path.join(HERE, F['name'])
    os.makedirs(d, exist_ok=True)
    eid = {tm: f'E{k}' for k, tm in enumerate(tems, 1)}  # ids in order of first appearance
    with open(os.path.join(d, F['name'] + '.log'), 'wb') as fh:
        fh.write(''.join(line + F['eol'] for line, _, _ in rows).encode('utf-8'))
    with open(os.path.join(d, F['name'] + '.log_structured.csv'), 'w', newline='', encoding='utf-8') as fh:
        w = csv.writer(fh, lineterminator='\n')
        w.writerow(['LineId', 'Content', 'EventId', 'EventTemplate'])
        for k, (_, msg, tem) in enumerate(rows, 1):
            w.writerow([k, msg, eid[tem], tem])


def rx(pattern):
    """extract() from a regex with a (?P<c>...) group."""
    r = re.compile(pattern)

    def ex(line):
        m = r.match(line)
        return m.group('c') if m else None
    return ex


def jx(key):
    """extract() for JSON lines: the (possibly dotted) message key."""
    def ex(line):
        v = json.loads(line)
        for k in key.split('.'):
            v = v[k]
        return v
    return ex


def D(y, mo, d, h=0, mi=0, s=0):
    return datetime(y, mo, d, h, mi, s, 0)


# ==============================================================================================
# FORMATS
# ==============================================================================================
def client_pool(c, n=70, private=0.15):
    if 'clients' not in c.st:
        c.st['clients'] = [GEN['ip'](c) if c.rng.random() < private else GEN['pip'](c) for _ in range(n)]
    return c.skewed(c.st['clients'], 0.9)


def Vf(x):
    """An access-log field that is a variable as a whole: one slot, or a literal turned into one."""
    if re.fullmatch(r'«[^«»]*»', x):
        return x
    assert '«' not in x, x
    return '«pick:' + x + '»'


def fields(*xs):
    return ' '.join(Vf(x) for x in xs)


REF_SHOP = '«pick:-|-|-|https://shop.example.com/|https://shop.example.com/cart|https://www.google.com/|https://shop.example.com/products?category=shoes|https://shop.example.com/checkout»'


@gen('ipp')  # ip:port as one value
def _g_ipp(c, arg):
    return f'{GEN["ip"](c)}:{arg or GEN["port"](c)}'


@fmt('nginx_access', n=420, start=D(2026, 12, 4, 6, 2, 11), days=3.2,
     title='nginx access log, `combined` format',
     source='https://nginx.org/en/docs/http/ngx_http_log_module.html#log_format',
     header='`$remote_addr - $remote_user [$time_local] `',
     content='Everything after `[$time_local] `: `"$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"`.')
def f_nginx_access(c):
    def R(w, req, status, size, ref=REF_SHOP, ua='«ua_browser»'):
        st = status if status.startswith('«') else '«' + status + '»'
        st = '«st:' + st[1:-1] + '»'
        sz = size if size.startswith('«i:') else Vf(size)
        sz = '«sz:' + sz[3:-1] + '»' if sz.startswith('«i:') else sz
        return T(w, f'"{req}" {st} {sz} "{Vf(ref)}" "{Vf(ua)}"')
    items = [
        R(14, 'GET / HTTP/2.0', '«200|200|200|304»', '«i:5400-5900»'),
        R(16, 'GET /static/js/main.«hex:8».chunk.js HTTP/2.0', '«200|304»', '«i:180000-312000»'),
        R(10, 'GET /static/css/main.«hex:8».css HTTP/2.0', '«200|304»', '«i:30000-48000»'),
        R(10, 'GET /images/products/«i:1000-99999»/«hex:12».webp HTTP/2.0', '«200|200|304|404»', '«i:9000-210000»'),
        R(18, 'GET /api/v1/products/«i:1000-99999» HTTP/1.1', '«200|200|200|404»', '«i:90-4200»'),
        R(12, 'GET /api/v1/products?category=«category»&page=«i:1-40» HTTP/1.1', '«200|200|200|400»', '«i:900-26000»'),
        R(9, 'POST /api/v1/cart/items HTTP/1.1', '«201|201|201|400|409»', '«i:40-900»'),
        R(5, 'DELETE /api/v1/cart/items/«i:1-999999» HTTP/1.1', '«204|204|404»', '«0|0|46»'),
        R(6, 'PUT /api/v1/users/«i:10000-999999»/address HTTP/1.1', '«200|200|422»', '«i:60-700»'),
        R(6, 'POST /api/v1/checkout HTTP/1.1', '«200|200|200|402|409|502»', '«i:70-1800»'),
        R(5, 'POST /api/v1/auth/login HTTP/1.1', '«200|200|401|429»', '«i:50-900»'),
        R(8, 'GET /api/v1/orders/«uuid» HTTP/1.1', '«200|200|404»', '«i:300-5200»'),
        R(3, 'POST /api/v1/payments/«uuid»/capture HTTP/1.1', '«200|200|402»', '«i:90-600»', ref='-', ua='«ua_client»'),
        R(3, 'POST /api/v1/payments/«uuid»/refund HTTP/1.1', '«200|200|409»', '«i:90-600»', ref='-', ua='«ua_client»'),
        R(12, 'GET /healthz HTTP/1.1', '200', '2', ref='-', ua='kube-probe/1.30'),
        R(3, 'HEAD / HTTP/1.1', '200', '0', ref='-', ua='«Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)|Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)»'),
        R(3, 'GET /wp-login.php HTTP/1.1', '404', '«153|555»', ref='-', ua='«ua_bot»'),
        R(3, 'GET /.env HTTP/1.1', '«403|404»', '«153|555»', ref='-', ua='«ua_bot»'),
        R(2, 'GET /robots.txt HTTP/1.1', '200', '«i:60-70»', ref='-', ua='«ua_bot»'),
        R(2, '\\x16\\x03\\x01«hexesc»', '400', '157', ref='-', ua='-'),
    ]
    def line(c, t, msg, m):
        user = '-' if c.rng.random() < 0.97 else c.ch(['admin', 'ops', 'grafana'])
        return f'{client_pool(c)} - {user} [{tfmt(t, "%d/%b/%Y:%H:%M:%S +0000")}] {msg}'
    return dict(items=items, line=line, extract=rx(r'^\S+ - \S+ \[[^\]]+\] (?P<c>.*)$'))


@gen('st')  # status code from choices, remembered for «sz»
def _g_st(c, arg):
    c.vars['_st'] = v = c.ch(arg.replace('pick:', '').split('|'))
    return v


@gen('sz')  # body size in a range; 0 for 204/304, small for errors
def _g_sz(c, arg):
    st = c.vars.get('_st', '200')
    a, b = (int(x) for x in arg.split('-'))
    if st in ('204', '304'):
        return '0'
    if st[0] in '45':
        return str(c.r(0, 600))
    return str(c.r(a, b))


@gen('hexesc')
def _g_hexesc(c, arg=None):
    return ''.join('\\x%02X' % c.r(0, 255) for _ in range(c.r(8, 22)))


@fmt('nginx_error', n=330, start=D(2026, 12, 3, 22, 40, 5), days=4.5,
     title='nginx error log',
     source='https://nginx.org/en/docs/ngx_core_module.html#error_log',
     header='`yyyy/mm/dd HH:MM:SS [level] pid#tid: `',
     content='Everything after `pid#tid: `, including the leading `*cid` connection number.')
def f_nginx_error(c):
    def E(w, head, lvl='error', upstream=None):
        up = f', upstream: "{upstream}"' if upstream else ''
        msg = ('*«i:10000-9999999» ' + head + ', client: «pip», server: «$h=pick:shop.example.com|api.example.com»'
               ', request: "«req»"' + up + ', host: "«$h»"')
        return T(w, msg, lvl=lvl)
    items = [
        T(12, '*«i:10000-9999999» open() "/usr/share/nginx/html/«$f=pick:favicon.ico|apple-touch-icon.png|apple-touch-icon-precomposed.png|ads.txt|sitemap.xml|.well-known/security.txt»" failed (2: No such file or directory), client: «pip», server: shop.example.com, request: "GET /«$f» HTTP/1.1", host: "shop.example.com"'),
        E(8, 'upstream timed out (110: Connection timed out) while reading response header from upstream', upstream='«upurl»'),
        E(6, 'connect() failed (111: Connection refused) while connecting to upstream', upstream='«upurl»'),
        E(4, 'no live upstreams while connecting to upstream', upstream='«upurl:api_backend»'),
        E(5, 'upstream prematurely closed connection while reading response header from upstream', upstream='«upurl»'),
        E(4, 'recv() failed (104: Connection reset by peer) while reading response header from upstream', upstream='«upurl»'),
        T(4, '*«i:10000-9999999» client intended to send too large body: «i:10485761-90000000» bytes, client: «pip», server: api.example.com, request: "POST /api/v1/uploads HTTP/1.1", host: "api.example.com"'),
        T(5, '*«i:10000-9999999» SSL_do_handshake() failed (SSL: error:0A00006C:SSL routines::bad key share) while SSL handshaking, client: «pip», server: 0.0.0.0:443', lvl='crit'),
        T(6, '*«i:10000-9999999» limiting requests, excess: «f:0.1-30:3» by zone "api_limit", client: «pip», server: api.example.com, request: "«req»", host: "api.example.com"'),
        E(5, 'an upstream response is buffered to a temporary file /var/cache/nginx/proxy_temp/«i:0-9»/«i:10-99»/«i:1000000000-9999999999» while reading upstream', lvl='warn', upstream='«upurl»'),
        T(4, '*«i:10000-9999999» a client request body is buffered to a temporary file /var/cache/nginx/client_temp/«i:1000000000-9999999999», client: «pip», server: api.example.com, request: "POST /api/v1/uploads HTTP/1.1", host: "api.example.com"', lvl='warn'),
        T(4, '*«i:10000-9999999» access forbidden by rule, client: «pip», server: shop.example.com, request: "GET /«pick:.git/config|.env|server-status|admin/config.php|.DS_Store» HTTP/1.1", host: "shop.example.com"'),
        T(3, '*«i:10000-9999999» directory index of "/usr/share/nginx/html/«$d=pick:static|images|downloads|assets»/" is forbidden, client: «pip», server: shop.example.com, request: "GET /«$d»/ HTTP/1.1", host: "shop.example.com"'),
        S(2, T(0, 'signal 1 (SIGHUP) received from «i:1000-99999», reconfiguring', lvl='notice', master=True),
             T(0, 'reconfiguring', lvl='notice', master=True),
             T(0, 'using the "epoll" event method', lvl='notice', master=True),
             T(0, 'start worker processes', lvl='notice', master=True),
             T(0, 'start worker process «i:1000-99999»', lvl='notice', master=True),
             T(0, 'start worker process «i:1000-99999»', lvl='notice', master=True),
             T(0, 'gracefully shutting down', lvl='notice'),
             T(0, 'exiting', lvl='notice'),
             T(0, 'exit', lvl='notice'),
             T(0, 'signal 17 (SIGCHLD) received from «i:1000-99999»', lvl='notice', master=True),
             T(0, 'worker process «i:1000-99999» exited with code 0', lvl='notice', master=True),
             T(0, 'signal 29 (SIGIO) received', lvl='notice', master=True), min=3),
    ]
    def line(c, t, msg, m):
        if 'workers' not in c.st:
            c.st['workers'] = [c.r(20, 90) for _ in range(4)]
        pid = 1 if m.get('master') else c.ch(c.st['workers'])
        return f'{tfmt(t, "%Y/%m/%d %H:%M:%S")} [{m.get("lvl", "error")}] {pid}#{pid}: {msg}'
    return dict(items=items, line=line, extract=rx(r'^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[\w+\] \d+#\d+: (?P<c>.*)$'))


@gen('path')
def _g_path(c, arg=None):
    return c.ch(['/api/v1/orders/%d' % c.r(1000, 999999), '/api/v1/products/%d' % c.r(1000, 99999),
                 '/api/v1/checkout', '/api/v1/cart', '/api/v1/search?q=%s' % c.ch(POOLS['category']),
                 '/api/v1/users/%d/orders' % c.r(10000, 999999), '/api/v1/recommendations'])


@gen('req')
def _g_req(c, arg=None):
    p = GEN['path'](c)
    m = 'POST' if p in ('/api/v1/checkout', '/api/v1/cart') else c.ch(['GET', 'GET', 'GET', 'PUT'])
    c.vars['_path'] = p
    return f'{m} {p} HTTP/1.1'


@gen('upurl')
def _g_upurl(c, arg=None):
    host = arg or f'{GEN["ip"](c)}:8080'
    return f'http://{host}{c.vars.get("_path") or GEN["path"](c)}'


@fmt('apache_error', n=340, start=D(2026, 12, 5, 3, 11, 47), days=3.8,
     title='Apache httpd 2.4 error log (default ErrorLogFormat)',
     source='https://httpd.apache.org/docs/2.4/mod/core.html#errorlogformat',
     header='`[%{u}t] [%-m:%l] [pid %P:tid %T] `, e.g. `[Sat Dec 05 03:11:47.123456 2026] [core:error] [pid 4121:tid 140021...] `',
     content='Everything after the `[pid P:tid T] ` field: the optional `(errno)Text: ` prefix, the `[client ip:port]` field, the `AHnnnnn:` code and any `, referer: ...` suffix are part of Content.')
def f_apache_error(c):
    CL = '[client «pip»:«port»] '
    items = [
        T(14, CL + 'AH01630: client denied by server configuration: /var/www/html/«pick:server-status|.git|.htaccess|admin|phpmyadmin»', mod='authz_core:error'),
        T(12, CL + 'AH00128: File does not exist: /var/www/html/«pick:favicon.ico|wp-login.php|xmlrpc.php|.env|robots.txt|sitemap.xml|vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php»', mod='core:info'),
        T(4, CL + 'AH01276: Cannot serve directory /var/www/html/«pick:uploads|assets|media|backup»/: No matching DirectoryIndex (index.php,index.html) found, and server-generated directory index forbidden by Options directive', mod='autoindex:error'),
        T(9, CL + 'AH01071: Got error \'PHP message: PHP Warning:  Undefined array key "«word»" in /var/www/html/«pick:cart|checkout|product|account/orders|lib/session».php on line «i:12-900»\'', mod='proxy_fcgi:error'),
        T(4, CL + "AH01071: Got error 'Primary script unknown', referer: «pick:https://www.example.com/|https://www.example.com/blog/|https://www.example.com/shop/|https://www.example.com/about»", mod='proxy_fcgi:error'),
        T(6, CL + 'AH01617: user «user»: authentication failure for "/admin": Password Mismatch', mod='auth_basic:error'),
        T(4, CL + 'AH01618: user «bad_user» not found: /admin', mod='auth_basic:error'),
        T(5, '(111)Connection refused: AH00957: http: attempt to connect to 127.0.0.1:«$u=pick:8080|8081|9000» (127.0.0.1:«$u») failed', mod='proxy:error'),
        T(3, 'AH00959: ap_proxy_connect_backend disabling worker for (127.0.0.1:«pick:8080|8081|9000») for 60s', mod='proxy:error'),
        T(5, CL + 'AH01102: error reading status line from remote server 127.0.0.1:«pick:8080|8081»', mod='proxy_http:error'),
        T(4, CL + 'AH00898: Error reading from remote server returned by «path»', mod='proxy:error'),
        T(5, CL + 'AH01382: Request header read timeout', mod='reqtimeout:info'),
        T(4, CL + 'AH02008: SSL library error 1 in handshake (server www.example.com:443)', mod='ssl:info'),
        T(3, CL + 'AH02032: Hostname «pick:example.com|www.example.com|shop.example.com» provided via SNI and hostname «pip» provided via HTTP have no compatible SSL setup', mod='ssl:error'),
        T(3, 'AH00484: server reached MaxRequestWorkers setting, consider raising the MaxRequestWorkers setting', mod='mpm_event:error'),
        S(2, T(0, 'AH00493: SIGUSR1 received.  Doing graceful restart', mod='mpm_event:notice', master=True),
             T(0, 'AH00489: Apache/2.4.58 (Ubuntu) OpenSSL/3.0.13 configured -- resuming normal operations', mod='mpm_event:notice', master=True),
             T(0, "AH00094: Command line: '/usr/sbin/apache2'", mod='core:notice', master=True), min=3),
        S(1, T(0, 'AH00491: caught SIGTERM, shutting down', mod='mpm_event:notice', master=True),
             T(0, 'AH00489: Apache/2.4.58 (Ubuntu) OpenSSL/3.0.13 configured -- resuming normal operations', mod='mpm_event:notice', master=True, newpid=True),
             T(0, "AH00094: Command line: '/usr/sbin/apache2'", mod='core:notice', master=True), min=2, gap=(0.5, 3.0)),
    ]
    def line(c, t, msg, m):
        if 'master' not in c.st or m.get('newpid'):
            c.st['master'] = c.r(900, 99999)
            c.st['kids'] = [c.r(900, 99999) for _ in range(3)]
        pid = c.st['master'] if m.get('master') else c.ch(c.st['kids'])
        tid = c.r(139600000000000, 140700000000000)
        return f'[{tfmt(t, "%a %b %d %H:%M:%S.%6 %Y")}] [{m["mod"]}] [pid {pid}:tid {tid}] {msg}'
    return dict(items=items, line=line, extract=rx(r'^\[[^\]]+\] \[[\w:]+\] \[pid \d+:tid \d+\] (?P<c>.*)$'))


@fmt('envoy_access', n=380, start=D(2026, 12, 6, 9, 0, 3), days=2.6,
     title='Envoy access log, default format string',
     source='https://www.envoyproxy.io/docs/envoy/latest/configuration/observability/access_log/usage#default-format-string',
     header='`[%START_TIME%] `',
     content='Everything after `[%START_TIME%] `: `"METHOD PATH PROTOCOL" CODE FLAGS RX TX DURATION UPSTREAM_TIME "XFF" "UA" "REQUEST_ID" "AUTHORITY" "UPSTREAM_HOST"`.')
def f_envoy(c):
    def R(w, req, ua='«ua_client»', auth='«pick:orders.prod.svc.cluster.local:8080|orders:8080»', rx='0-4000', tx='40-60000', k=None):
        k = k or ('w' if req.startswith(('POST', 'PATCH', 'DELETE')) else 'r')
        return T(w, f'"{req}" «ecode:{k}» «eflags» «i:{rx}» «i:{tx}» «edur» «eut» "«xff»" "{Vf(ua)}" "«uuid»" "{Vf(auth)}" "«eup»"')
    items = [
        R(20, 'GET /api/v1/orders/«i:100000-999999» HTTP/1.1'),
        R(10, 'GET /api/v1/orders?customer=«i:10000-999999»&limit=«pick:10|20|50» HTTP/1.1'),
        R(10, 'POST /api/v1/orders HTTP/1.1'),
        R(5, 'PATCH /api/v1/orders/«i:100000-999999»/status HTTP/1.1'),
        R(4, 'DELETE /api/v1/orders/«i:100000-999999» HTTP/1.1'),
        R(8, 'GET /api/v1/inventory/SKU-«i:10000-99999» HTTP/1.1', auth='inventory.prod.svc.cluster.local:8080'),
        R(6, 'POST /api/v1/inventory/reservations HTTP/1.1', auth='inventory.prod.svc.cluster.local:8080'),
        R(9, 'POST /inventory.v1.InventoryService/Reserve HTTP/2', ua='grpc-go/1.67.1', auth='inventory-grpc.prod.svc.cluster.local:9090'),
        R(6, 'POST /payments.v1.PaymentService/Authorize HTTP/2', ua='grpc-java-netty/1.68.1', auth='payments-grpc.prod.svc.cluster.local:9090'),
        R(12, 'POST /grpc.health.v1.Health/Check HTTP/2', k='h', rx='5-5', tx='7-7', ua='grpc-go/1.67.1', auth='«pick:orders-grpc.prod.svc.cluster.local:9090|inventory-grpc.prod.svc.cluster.local:9090|payments-grpc.prod.svc.cluster.local:9090»'),
        R(10, 'GET /ready HTTP/1.1', k='h', rx='0-0', tx='0-0', ua='kube-probe/1.30', auth='«ipp:15021»'),
        R(4, 'GET /stats/prometheus HTTP/1.1', k='h', rx='0-0', tx='90000-240000', ua='Prometheus/2.54.1', auth='«ipp:15090»'),
        R(3, 'GET /favicon.ico HTTP/1.1', ua='«ua_browser»'),
        T(6, '"- - -" ' + fields('0', '«-|UF,URX|UH»', '«i:0-90000»', '«i:0-900000»', '«i:1-3600000»', '-') + ' "«pick:-»" "«pick:-»" "«pick:-»" "«pick:-»" "«ipp:5432»"'),
    ]
    def line(c, t, msg, m):
        return f'[{tfmt(t, "%Y-%m-%dT%H:%M:%S.%3Z")}] {msg}'
    return dict(items=items, line=line, extract=rx(r'^\[[^\]]+\] (?P<c>.*)$'))


@gen('ecode')
def _g_ecode(c, arg=None):
    codes = {'r': (['200', '404', '503', '504', '0'], [85, 6, 4, 3, 2]),
             'w': (['200', '201', '204', '400', '409', '503', '504', '0'], [30, 40, 5, 6, 6, 6, 4, 3]),
             'h': (['200', '503'], [95, 5])}[arg or 'r']
    c.vars['_ecode'] = v = c.rng.choices(codes[0], weights=codes[1])[0]
    return v


@gen('eflags')
def _g_eflags(c, arg=None):
    code = c.vars.get('_ecode', '200')
    return {'503': c.ch(['UF,URX', 'UH', 'UO', 'UC']), '504': 'UT', '0': 'DC'}.get(code, '-')


@gen('edur')
def _g_edur(c, arg=None):
    c.vars['_edur'] = v = int(float(GEN['lf'](c, '1-3000:0')))
    return str(v)


@gen('eut')
def _g_eut(c, arg=None):
    return '-' if c.vars.get('_ecode') in ('503', '0') else str(max(0, c.vars.get('_edur', 5) - c.r(0, 3)))


@gen('eup')
def _g_eup(c, arg=None):
    if c.vars.get('_ecode') == '503' and c.rng.random() < 0.5:
        return '-'
    return f'{GEN["ip"](c)}:{c.ch(["8080", "9090"])}'


@gen('xff')
def _g_xff(c, arg=None):
    return c.ch(['-', GEN['pip'](c), GEN['pip'](c) + ',' + GEN['ip'](c)])


@fmt('haproxy', n=360, start=D(2026, 12, 4, 17, 30, 0), days=3.0,
     title='HAProxy HTTP log (`option httplog`) wrapped in RFC 3164 syslog',
     source='https://docs.haproxy.org/2.8/configuration.html#8.2.3',
     header='syslog `Mmm dd HH:MM:SS host haproxy[pid]: `; on traffic lines also the client fields `%ci:%cp [%tr] `',
     content='Traffic lines: everything after `[accept date] ` (frontend, backend/server, timers, status, bytes, cookies, termination state, connection counts, queues, quoted request). Other lines: everything after `haproxy[pid]: `.')
def f_haproxy(c):
    def R(w, fe, be, req):
        return T(w, fields(fe, '«hbs:' + be + '»', '«htimers»', '«hstatus»', '«i:0-80000»', '-', '-',
                           '«htsc»', '«hconns»', '0/0') + f' "{req}"', traffic=True)
    items = [
        R(20, 'fe_https~', 'be_api', 'GET /api/v1/users/«i:1-999999» HTTP/1.1'),
        R(10, 'fe_https~', 'be_api', 'POST /api/v1/sessions HTTP/1.1'),
        R(8, 'fe_https~', 'be_api', 'GET /api/v1/search?q=«category»&page=«i:1-20» HTTP/1.1'),
        R(6, 'fe_https~', 'be_api', 'PUT /api/v1/users/«i:1-999999»/preferences HTTP/1.1'),
        R(10, 'fe_https~', 'be_static', 'GET /assets/«pick:app|vendor|runtime».«hex:10».js HTTP/1.1'),
        R(6, 'fe_http', 'fe_http', 'GET / HTTP/1.1'),
        R(4, 'fe_https~', 'be_api', 'GET /healthz HTTP/1.1'),
        T(3, fields('fe_https~', 'fe_https~/<NOSRV>', '«htimers:bad»', '400', '0', '-', '-', 'CR--', '«hconns»', '0/0') + ' "<BADREQ>"', traffic=True),
        T(4, 'Server be_api/«hsrv» is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: «i:0-3»ms. «i:1-3» active and 0 backup servers left. «i:0-40» sessions active, 0 requeued, 0 remaining in queue.'),
        T(4, 'Server be_api/«hsrv» is UP, reason: Layer7 check passed, code: 200, check duration: «i:1-9»ms. «i:1-4» active and 0 backup servers online. 0 sessions requeued, 0 total in queue.'),
        T(4, 'Health check for server be_api/«hsrv» failed, reason: Layer7 wrong status, code: 503, info: "Service Unavailable", check duration: «i:1-40»ms, status: «i:0-2»/3 «UP|DOWN».'),
        T(3, 'Health check for server be_api/«hsrv» succeeded, reason: Layer7 check passed, code: 200, check duration: «i:1-9»ms, status: «i:1-2»/2 DOWN.'),
        T(2, 'backend be_api has no server available!'),
        S(1, T(0, 'Proxy fe_http started.', restart=True), T(0, 'Proxy fe_https started.'),
             T(0, 'Proxy be_api started.'), T(0, 'Proxy be_static started.'), min=2),
        S(1, T(0, 'Stopping frontend fe_http in 0 ms.'), T(0, 'Stopping frontend fe_https in 0 ms.'),
             T(0, 'Proxy fe_http stopped (cumulated conns: FE: «i:100-900000», BE: 0).'),
             T(0, 'Proxy fe_https stopped (cumulated conns: FE: «i:100-900000», BE: 0).'), min=2),
    ]
    def line(c, t, msg, m):
        host = c.vars.setdefault('_host', c.ch(['lb-01', 'lb-01', 'lb-02']))
        if host not in c.st or m.get('restart'):
            c.st[host] = c.r(800, 60000)
        head = f'{tfmt(t, "%b %e %H:%M:%S")} {host} haproxy[{c.st[host]}]: '
        if m.get('traffic'):
            acc = t - timedelta(milliseconds=c.r(0, 900))
            return head + f'{client_pool(c)}:{GEN["port"](c)} [{tfmt(acc, "%d/%b/%Y:%H:%M:%S.%3")}] {msg}'
        return head + msg
    return dict(items=items, line=line, extract=rx(r'^\w{3} [ \d]\d \d\d:\d\d:\d\d \S+ haproxy\[\d+\]: (?:[\d.]+:\d+ \[[^\]]+\] )?(?P<c>.*)$'))


@gen('hsrv')
def _g_hsrv(c, arg=None):
    return c.ch(['api-1', 'api-2', 'api-3'])


@gen('hbs')
def _g_hbs(c, arg):
    if arg == 'fe_http':
        return 'fe_http/<NOSRV>'
    return arg + '/' + (c.ch(['api-1', 'api-2', 'api-3']) if arg == 'be_api' else c.ch(['web-a', 'web-b']))


@gen('htimers')
def _g_htimers(c, arg=None):
    if arg == 'bad':
        return f'-1/-1/-1/-1/{c.r(0, 20)}'
    tr, tw, tc, trr = c.r(0, 30), c.ch([0, 0, 0, c.r(0, 50)]), c.r(0, 4), c.r(1, 900)
    return f'{tr}/{tw}/{tc}/{trr}/{tr + tw + tc + trr + c.r(0, 3)}'


@gen('hstatus')
def _g_hstatus(c, arg=None):
    c.vars['_hs'] = v = c.rng.choices(['200', '201', '204', '301', '304', '400', '401', '404', '500', '502', '503'],
                                       weights=[70, 4, 3, 3, 6, 2, 2, 5, 1, 2, 2])[0]
    return v


@gen('htsc')
def _g_htsc(c, arg=None):
    return {'502': 'SH--', '503': 'sC--'}.get(c.vars.get('_hs'), c.ch(['----'] * 8 + ['CD--', '--VN', '--NI']))


@gen('hconns')
def _g_hconns(c, arg=None):
    ac = c.r(1, 400)
    fc = c.r(1, ac)
    bc = c.r(0, fc)
    return f'{ac}/{fc}/{bc}/{c.r(0, bc) if bc else 0}/{c.ch([0, 0, 0, 0, 1])}'


@fmt('aws_alb', n=300, start=D(2026, 12, 7, 0, 5, 0), days=2.2,
     title='AWS Application Load Balancer access log',
     source='https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html#access-log-entry-syntax',
     header='`type time elb client:port ` (the first four space-separated fields)',
     content='Everything after `client:port `: target:port, the three processing times, both status codes, byte counts, quoted request, user agent, TLS cipher/protocol, target group ARN, trace id, domain, certificate ARN, rule priority, request_creation_time, actions, redirect url, error reason, target lists, classification fields and conn_trace_id.')
def f_alb(c):
    def R(w, req, tg='api-tg', ua='«alb_ua»', rule='«i:1-5»', actions='«pick:forward»'):
        return T(w, fields('«atarget»', '«atime»', '«atime»', '«atime»', '«astatus»', '«$tst»', '«i:100-4000»', '«i:100-90000»')
                 + f' "{req}" "{ua}" '
                 + fields('«acipher»', '«aproto»', f'«tgarn:{tg}»')
                 + ' "«xray»" "«adomain»" "«certarn»" ' + fields(rule, '«ts:%Y-%m-%dT%H:%M:%S.%6Z»')
                 + f' "{actions}" "«pick:-»" "«pick:-»" "«$tgt»" "«$tst»" "«pick:-»" "«pick:-»" «tid»')
    items = [
        R(20, 'GET https://api.example.com:443/v1/orders/«i:100000-999999» HTTP/1.1'),
        R(10, 'POST https://api.example.com:443/v1/orders HTTP/1.1'),
        R(8, 'GET https://api.example.com:443/v1/catalog/items?cursor=«AN:16»&limit=«pick:25|50|100» HTTP/2.0'),
        R(6, 'PUT https://api.example.com:443/v1/carts/«uuid» HTTP/2.0'),
        R(6, 'POST https://api.example.com:443/v1/auth/token HTTP/1.1', rule='«pick:1»'),
        R(10, 'GET https://www.example.com:443/ HTTP/2.0', tg='web-tg', rule='«i:6-9»', ua='«ua_browser»'),
        R(8, 'GET https://www.example.com:443/static/«pick:app|chunk-vendors|main».«hex:8».js HTTP/2.0', tg='web-tg', rule='«i:6-9»', ua='«ua_browser»'),
        R(5, 'GET https://www.example.com:443/account/orders/«i:100000-999999» HTTP/2.0', tg='web-tg', rule='«i:6-9»', ua='«ua_browser»', actions='«pick:authenticate,forward»'),
        R(6, 'GET https://api.example.com:443/v1/users/me HTTP/2.0'),
        T(4, fields('«atarget»', '-1', '-1', '-1', '«460|502|504»', '-', '«i:100-900»', '«i:0-300»')
             + ' "GET https://api.example.com:443/v1/reports/export?from=«tsago:%Y-%m-%d»&format=csv HTTP/1.1" "«ua_client»" '
             + fields('«acipher»', '«aproto»', '«tgarn:api-tg»') + ' "«xray»" "«pick:api.example.com»" "«certarn»" '
             + fields('«i:1-5»', '«ts:%Y-%m-%dT%H:%M:%S.%6Z»')
             + ' "«pick:forward»" "«pick:-»" "«-|Target.Timeout|Target.ResponseCodeMismatch»" "«$tgt»" "«pick:-»" "«pick:-»" "«pick:-»" «tid»'),
        T(4, fields('-', '-1', '-1', '-1', '301', '-', '«i:100-500»', '«i:300-400»')
             + ' "GET http://«$d=pick:api.example.com|www.example.com»:80/«$p=pick:|login|pricing|docs» HTTP/1.1" "«ua_browser»" '
             + fields('-', '-', '-') + ' "«xray»" "«pick:-»" "«pick:-»" ' + fields('0', '«ts:%Y-%m-%dT%H:%M:%S.%6Z»')
             + ' "«pick:redirect»" "«redir»" "«pick:-»" "«pick:-»" "«pick:-»" "«pick:-»" "«pick:-»" «tid»'),
    ]
    def line(c, t, msg, m):
        typ = 'h2' if 'HTTP/2.0' in msg else ('http' if ':80/' in msg else 'https')
        return f'{typ} {tfmt(t, "%Y-%m-%dT%H:%M:%S.%6Z")} app/prod-public-alb/50dc6c495c0c9188 {client_pool(c)}:{GEN["port"](c)} {msg}'
    return dict(items=items, line=line, extract=rx(r'^(?:https?|h2|wss?) \S+ \S+ \S+ (?P<c>.*)$'))


@gen('alb_ua')
def _g_alb_ua(c, arg=None):
    return c.ch(POOLS['ua_browser'] + POOLS['ua_client'])


@gen('atarget')
def _g_atarget(c, arg=None):
    v = f'10.0.{c.r(1, 3)}.{c.r(10, 250)}:{c.ch(["8080", "80"])}'
    c.vars['tgt'] = v
    return v


@gen('atime')
def _g_atime(c, arg=None):
    return f'{c.rng.choice([c.rng.uniform(0, 0.002), c.rng.uniform(0.001, 0.9), c.rng.uniform(0, 0.004)]):.3f}'


@gen('astatus')
def _g_astatus(c, arg=None):
    v = c.rng.choices(['200', '201', '204', '304', '400', '401', '403', '404', '500', '502'],
                      weights=[70, 5, 2, 5, 3, 3, 1, 5, 1, 1])[0]
    c.vars['tst'] = v
    return v


@gen('acipher')
def _g_acipher(c, arg=None):
    c.vars['_tls'] = k = c.ch(['1.2', '1.3', '1.3'])
    return 'ECDHE-RSA-AES128-GCM-SHA256' if k == '1.2' else c.ch(['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384'])


@gen('aproto')
def _g_aproto(c, arg=None):
    return 'TLSv' + c.vars.get('_tls', '1.2')


@gen('tgarn')
def _g_tgarn(c, arg):
    return f'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/{arg}/' + ('73e2d6bc24d8a067' if arg == 'api-tg' else '2b9f0c11d7e4a5f3')


@gen('xray')
def _g_xray(c, arg=None):
    return f'Root=1-{int(epoch(c.now)):08x}-{_rng_hex(c, 24)}'


@gen('adomain')
def _g_adomain(c, arg=None):
    return 'www.example.com' if c.rng.random() < 0.3 else 'api.example.com'


@gen('certarn')
def _g_certarn(c, arg=None):
    return 'arn:aws:acm:eu-west-1:123456789012:certificate/' + c.ch(['9a1c2d3e-4f50-4a6b-8c7d-0e1f2a3b4c5d', '0b1c2d3e-5f60-4b7c-9d8e-1f2a3b4c5d6e'])


@gen('tid')
def _g_tid(c, arg=None):
    return 'TID_' + _rng_hex(c, 32)


@gen('redir')
def _g_redir(c, arg=None):
    return f'https://{c.vars["d"]}:443/{c.vars["p"]}'


# ---------------------------------------------------------------------------------------------- databases
Q_ORDERS = 'SELECT o.id, o.status, o.total_cents, o.created_at FROM orders o WHERE o.customer_id = $1 ORDER BY o.created_at DESC LIMIT 50'
Q_STOCK = 'UPDATE inventory SET reserved = reserved + $1, updated_at = now() WHERE sku = $2 AND available - reserved >= $1'
Q_REPORT = ('SELECT date_trunc(\'day\', p.captured_at) AS day, sum(p.amount_cents) FROM payments p JOIN orders o ON o.id = p.order_id '
            'WHERE p.captured_at >= $1 GROUP BY 1 ORDER BY 1')


@gen('lsn')
def _g_lsn(c, arg=None):
    return f'{c.r(0, 3):X}/{c.r(0x1000000, 0xFFFFFFF):X}'


@gen('pgdup')
def _g_pgdup(c, arg=None):
    k = c.ch(['users_email_key', 'payments_idempotency_key_key', 'carts_pkey'])
    c.vars['dupcol'] = {'users_email_key': 'email', 'payments_idempotency_key_key': 'idempotency_key', 'carts_pkey': 'id'}[k]
    c.vars['dupval'] = {'users_email_key': GEN['email'](c), 'payments_idempotency_key_key': GEN['uuid'](c),
                        'carts_pkey': str(c.r(100000, 9999999))}[k]
    return k


@gen('pgsess')
def _g_pgsess(c, arg=None):
    s = c.rng.expovariate(1 / 40.0)
    return f'{int(s // 3600)}:{int(s % 3600 // 60):02d}:{s % 60:06.3f}'


@fmt('postgresql', n=400, start=D(2026, 12, 8, 1, 14, 9), days=4.0,
     title="PostgreSQL 16 server log with log_line_prefix = '%m [%p] '",
     source='https://www.postgresql.org/docs/16/runtime-config-logging.html#GUC-LOG-LINE-PREFIX',
     header='`%m [%p] ` then the severity: `2026-12-08 01:14:09.123 UTC [41234] LOG:  ` (also ERROR, FATAL, WARNING, DETAIL, HINT, CONTEXT, STATEMENT)',
     content='Everything after `SEVERITY:  ` (two spaces).')
def f_postgresql(c):
    CONN = [T(0, 'connection received: host=«$h=ip» port=«port»', lvl='LOG'),
            T(0, 'connection authorized: user=«$u=dbuser» database=«$d=db» application_name=«appname»', lvl='LOG')]
    DISC = T(0, 'disconnection: session time: «pgsess» user=«$u» database=«$d» host=«$h» port=«port»', lvl='LOG')
    items = [
        S(10, *CONN, DISC),
        S(14, T(0, 'duration: «lf:250-9000:3» ms  execute <unnamed>: ' + Q_ORDERS, lvl='LOG'),
              T(0, "parameters: $1 = '«i:10000-999999»'", lvl='DETAIL')),
        S(9, T(0, 'duration: «lf:250-9000:3» ms  execute S_«i:1-40»: ' + Q_STOCK, lvl='LOG'),
             T(0, "parameters: $1 = '«i:1-12»', $2 = 'SKU-«i:10000-99999»'", lvl='DETAIL')),
        S(8, T(0, 'checkpoint starting: time', lvl='LOG', role='ckpt'),
             T(0, 'checkpoint complete: wrote «i:20-9000» buffers («f:0.1-12:1»%); 0 WAL file(s) added, «i:0-3» removed, «i:0-6» recycled; write=«f:0.1-269:3» s, sync=«f:0.001-0.9:3» s, total=«f:0.2-270:3» s; sync files=«i:3-120», longest=«f:0.001-0.2:3» s, average=«f:0.001-0.02:3» s; distance=«i:100-900000» kB, estimate=«i:100-900000» kB; lsn=«lsn», redo lsn=«lsn»', lvl='LOG', role='ckpt'),
             gap=(30, 270)),
        S(5, T(0, 'duplicate key value violates unique constraint "«pgdup»"', lvl='ERROR'),
             T(0, 'Key («$dupcol»)=(«$dupval») already exists.', lvl='DETAIL'),
             T(0, 'INSERT INTO «!pick:users (email, password_hash, created_at) VALUES ($1, $2, now()) RETURNING id|payments (idempotency_key, order_id, amount_cents) VALUES ($1, $2, $3)»', lvl='STATEMENT')),
        S(4, T(0, 'relation "«$r=pick:order_archive|tmp_import|users_old|public.sessions_2025»" does not exist at character «i:15-40»', lvl='ERROR'),
             T(0, 'SELECT count(*) FROM «$r»', lvl='STATEMENT')),
        S(4, T(0, 'canceling statement due to statement timeout', lvl='ERROR'),
             T(0, Q_REPORT, lvl='STATEMENT')),
        S(5, T(0, 'password authentication failed for user "«dbuser»"', lvl='FATAL'),
             T(0, 'Connection matched file "/etc/postgresql/16/main/pg_hba.conf" line 102: "host all all 0.0.0.0/0 scram-sha-256"', lvl='DETAIL')),
        T(3, 'no pg_hba.conf entry for host "«pip»", user "«bad_user»", database "«pick:postgres|template1|shop»", no encryption', lvl='FATAL'),
        T(5, 'could not receive data from client: Connection reset by peer', lvl='LOG'),
        S(3, T(0, 'temporary file: path "base/pgsql_tmp/pgsql_tmp«i:1000-99999».«i:0-9»", size «i:1048576-2147483648»', lvl='LOG'),
             T(0, Q_REPORT, lvl='STATEMENT')),
        S(1, T(0, 'received fast shutdown request', lvl='LOG', role='pm'),
             T(0, 'shutting down', lvl='LOG', role='ckpt'),
             T(0, 'database system is shut down', lvl='LOG', role='pm'),
             T(0, 'starting PostgreSQL 16.6 (Ubuntu 16.6-1.pgdg24.04+1) on x86_64-pc-linux-gnu, compiled by gcc (Ubuntu 13.2.0-23ubuntu4) 13.2.0, 64-bit', lvl='LOG', role='pm', restart=True),
             T(0, 'listening on IPv4 address "0.0.0.0", port 5432', lvl='LOG', role='pm'),
             T(0, 'database system was shut down at «tsago:%Y-%m-%d %H:%M:%S UTC»', lvl='LOG', role='startup'),
             T(0, 'database system is ready to accept connections', lvl='LOG', role='pm'), min=2),
    ]
    def line(c, t, msg, m):
        if 'pm' not in c.st or m.get('restart'):
            c.st['pm'] = c.r(700, 9000)
            c.st['ckpt'] = c.st['pm'] + c.r(1, 4)
        role = m.get('role')
        if role == 'pm':
            pid = c.st['pm']
        elif role == 'ckpt':
            pid = c.st['ckpt']
        else:
            pid = c.vars.setdefault('_pid', c.st['pm'] + c.r(10, 90000))
        return f'{tfmt(t, "%Y-%m-%d %H:%M:%S.%3 UTC")} [{pid}] {m["lvl"]}:  {msg}'
    return dict(items=items, line=line,
                extract=rx(r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC \[\d+\] [A-Z]+:  (?P<c>.*)$'))


@fmt('mysql_error', n=300, start=D(2026, 12, 2, 14, 2, 51), days=5.0,
     title='MySQL 8.0 error log (log_sink_internal, traditional format)',
     source='https://dev.mysql.com/doc/refman/8.0/en/error-log-format.html',
     header='`time thread [label] [err_code] [subsystem] `, e.g. `2026-12-02T14:02:51.123456Z 0 [System] [MY-010116] [Server] `',
     content='Everything after the `[subsystem] ` field.')
def f_mysql(c):
    V = '8.0.40'
    items = [
        S(1, T(0, f'/usr/sbin/mysqld (mysqld {V}) starting as process «i:1-99999»', lab='System', code='MY-010116', sub='Server', restart=True),
             T(0, 'InnoDB initialization has started.', lab='System', code='MY-013576', sub='InnoDB'),
             T(0, 'InnoDB initialization has ended.', lab='System', code='MY-013577', sub='InnoDB'),
             T(0, 'CA certificate ca.pem is self signed.', lab='Warning', code='MY-010068', sub='Server'),
             T(0, 'Channel mysql_main configured to support TLS. Encrypted connections are now supported for this channel.', lab='System', code='MY-013602', sub='Server'),
             T(0, "Insecure configuration for --pid-file: Location '/var/run/mysqld' in the path is accessible to all OS users. Consider choosing a different directory.", lab='Warning', code='MY-011810', sub='Server'),
             T(0, "X Plugin ready for connections. Bind-address: '::' port: 33060, socket: /var/run/mysqld/mysqlx.sock", lab='System', code='MY-011323', sub='Server'),
             T(0, f"/usr/sbin/mysqld: ready for connections. Version: '{V}'  socket: '/var/run/mysqld/mysqld.sock'  port: 3306  MySQL Community Server - GPL.", lab='System', code='MY-010931', sub='Server'),
             T(0, 'Buffer pool(s) load completed at «ts:%y%m%d %H:%M:%S»', lab='Note', code='MY-012922', sub='InnoDB'),
             first=True, min=2, gap=(0.01, 2.5)),
        S(1, T(0, f'Received SHUTDOWN from user <via user signal>. Shutting down mysqld (Version: {V}).', lab='System', code='MY-013172', sub='Server'),
             T(0, f'/usr/sbin/mysqld: Shutdown complete (mysqld {V})  MySQL Community Server - GPL.', lab='System', code='MY-010910', sub='Server'), min=2, gap=(1, 6)),
        T(14, "Aborted connection «i:100-999999» to db: '«db»' user: '«dbuser»' host: '«ip»' (Got an error reading communication packets).", lab='Note', code='MY-010914', sub='Server', conn=True),
        T(8, "Aborted connection «i:100-999999» to db: '«db»' user: '«dbuser»' host: '«ip»' (Got timeout reading communication packets).", lab='Note', code='MY-010914', sub='Server', conn=True),
        T(10, "Access denied for user '«bad_user»'@'«pip»' (using password: YES)", lab='Note', code='MY-010926', sub='Server', conn=True),
        T(4, "Access denied for user '«bad_user»'@'«pip»' (using password: NO)", lab='Note', code='MY-010926', sub='Server', conn=True),
        T(6, "'wait_timeout' period of 28800 seconds was exceeded for `«dbuser»`@`«ip»`. The idle time since last command was too long.", lab='Note', code='MY-013730', sub='Server', conn=True),
        T(6, "IP address '«pip»' could not be resolved: Name or service not known", lab='Warning', code='MY-010055', sub='Server', conn=True),
        T(6, "Plugin mysql_native_password reported: ''mysql_native_password' is deprecated and will be removed in a future release. Please use caching_sha2_password instead'", lab='Warning', code='MY-013360', sub='Server', conn=True),
        T(5, 'Page cleaner took «i:4000-30000»ms to flush «i:10-3000» and evict 0 pages', lab='Note', code='MY-011953', sub='InnoDB'),
        S(3, T(0, "Replica I/O thread for channel '': connected to source 'repl@10.0.1.12:3306',replication started in log 'binlog.«i:100000-100999»' at position «i:157-90000000»", lab='System', code='MY-010562', sub='Repl', conn=True),
             T(0, "Replica SQL thread for channel '' initialized, starting replication in log 'binlog.«i:100000-100999»' at position «i:157-90000000», relay log './relay-bin.«i:100000-100099»' position: «i:4-9000»", lab='Note', code='MY-010587', sub='Repl', conn=True)),
        T(2, "Replica SQL for channel '': Worker 1 failed executing transaction 'ANONYMOUS' at source log binlog.«$b=i:100000-100999», end_log_pos «$p=i:1000-90000000»; Could not execute Write_rows event on table «db».«table»; Duplicate entry '«i:1-999999»' for key '«table».PRIMARY', Error_code: 1062; handler error HA_ERR_FOUND_DUPP_KEY; the event's source log binlog.«$b», end_log_pos «$p», Error_code: MY-001062", lab='ERROR', code='MY-010584', sub='Repl', conn=True),
        T(3, "Replica I/O for channel '': Source command COM_REGISTER_REPLICA failed: Access denied for user 'repl'@'«ip»' (using password: YES) (Errno: 1045), Error_code: MY-013120", lab='ERROR', code='MY-013120', sub='Repl', conn=True),
        T(3, 'Timestamp of the last update of the replica is far behind: «i:60-9000» seconds', lab='Warning', code='MY-013724', sub='Repl', conn=True),
    ]
    def line(c, t, msg, m):
        thr = c.r(8, 999999) if m.get('conn') else 0
        return f'{tfmt(t, "%Y-%m-%dT%H:%M:%S.%6Z")} {thr} [{m["lab"]}] [{m["code"]}] [{m["sub"]}] {msg}'
    return dict(items=items, line=line,
                extract=rx(r'^\S+ \d+ \[\w+\] \[MY-\d+\] \[\w+\] (?P<c>.*)$'))


@fmt('redis', n=330, start=D(2026, 12, 9, 4, 0, 0), days=3.5,
     title='Redis 7 server log',
     source='https://redis.io/docs/latest/operate/oss_and_stack/management/config-file/ (loglevel; line layout pid:role dd Mon yyyy hh:mm:ss.mmm level-char)',
     header='`pid:role dd Mon yyyy HH:MM:SS.mmm <level char> ` where role is M (master), S (replica), C (RDB/AOF child) and the level char is `.` `-` `*` `#`',
     content='Everything after the level character and its space.')
def f_redis(c):
    items = [
        S(10, T(0, '«i:1-100» changes in «pick:60|300|3600» seconds. Saving...', lc='*', role='M'),
              T(0, 'Background saving started by pid «$cp=i:100-99999»', lc='*', role='M'),
              T(0, 'DB saved on disk', lc='*', role='C'),
              T(0, 'Fork CoW for RDB: current «i:0-40» MB, peak «i:0-60» MB, average «i:0-30» MB', lc='*', role='C'),
              T(0, 'Background saving terminated with success', lc='*', role='M'), gap=(0.05, 2.5)),
        S(3, T(0, 'Replica «$r=ip»:6379 asks for synchronization', lc='*', role='M'),
             T(0, "Full resync requested by replica «$r»:6379", lc='*', role='M'),
             T(0, 'Replication backlog created, my new replication IDs are \'«hex:40»\' and \'«hex:40»\'', lc='*', role='M'),
             T(0, 'Starting BGSAVE for SYNC with target: disk', lc='*', role='M'),
             T(0, 'Background saving started by pid «i:100-99999»', lc='*', role='M'),
             T(0, 'DB saved on disk', lc='*', role='C'),
             T(0, 'Background saving terminated with success', lc='*', role='M'),
             T(0, 'Synchronization with replica «$r»:6379 succeeded', lc='*', role='M'), gap=(0.01, 1.5)),
        S(4, T(0, 'Connection with replica «$r=ip»:6379 lost.', lc='#', role='M'),
             T(0, 'Replica «$r»:6379 asks for synchronization', lc='*', role='M'),
             T(0, "Partial resynchronization request from «$r»:6379 accepted. Sending «i:0-900000» bytes of backlog starting from offset «i:1000000-999999999».", lc='*', role='M'), gap=(1, 30)),
        T(4, 'Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer without waiting for fsync to complete, this may slow down Redis.', lc='*', role='M'),
        T(3, 'Client id=«i:1000-99999» addr=«ip»:«port» laddr=«ip»:6379 fd=«i:8-900» name=«pick:|celery|sidekiq|rq» age=«i:0-90000» idle=0 flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 watch=0 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=1024 rbp=0 obl=0 oll=«i:1000-9000» omem=«i:20000000-90000000» tot-mem=«i:20000000-90000000» events=rw cmd=«pick:psync|subscribe|xread» user=default redir=-1 resp=2 lib-name= lib-ver= scheduled to be closed ASAP for overcoming of output buffer limits.', lc='#', role='M'),
        T(2, 'WARNING: The TCP backlog setting of 511 cannot be enforced because /proc/sys/net/core/somaxconn is set to the lower value of 128.', lc='#', role='M'),
        S(1, T(0, 'Received SIGTERM scheduling shutdown...', lc='#', role='M'),
             T(0, 'User requested shutdown...', lc='#', role='M'),
             T(0, 'Saving the final RDB snapshot before exiting.', lc='*', role='M'),
             T(0, 'DB saved on disk', lc='*', role='M'),
             T(0, 'Redis is now ready to exit, bye bye...', lc='#', role='M'),
             T(0, 'oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo', lc='#', role='C', restart=True),
             T(0, 'Redis version=7.2.6, bits=64, commit=00000000, modified=0, pid=«pid», just started', lc='#', role='C'),
             T(0, 'Configuration loaded', lc='#', role='C'),
             T(0, 'Server initialized', lc='*', role='M'),
             T(0, 'Loading RDB produced by version 7.2.6', lc='*', role='M'),
             T(0, 'RDB age «i:1-120» seconds', lc='*', role='M'),
             T(0, 'Done loading RDB, keys loaded: «i:1000-9000000», keys expired: «i:0-9000».', lc='*', role='M'),
             T(0, 'DB loaded from disk: «f:0.05-30:3» seconds', lc='*', role='M'),
             T(0, 'Ready to accept connections tcp', lc='*', role='M'), first=True, min=2, gap=(0.001, 0.6)),
    ]
    def line(c, t, msg, m):
        if 'pid' not in c.st or m.get('restart'):
            c.st['pid'] = c.ch([1, 1, c.r(7, 40000)])
        if m['role'] == 'C' and 'DB saved' in msg or 'Fork CoW' in msg:
            pid = c.vars.get('cp') or c.r(100, 99999)
        else:
            pid = c.st['pid']
        return f'{pid}:{m["role"]} {tfmt(t, "%d %b %Y %H:%M:%S.%3")} {m["lc"]} {msg}'
    return dict(items=items, line=line, extract=rx(r'^\d+:[MSCX] \d\d \w{3} \d{4} \d\d:\d\d:\d\d\.\d{3} [.*#-] (?P<c>.*)$'))


@gen('pid')
def _g_pid(c, arg=None):
    return str(c.st.get('pid', 1))


@gen('newpid')  # a process (re)start: new pid remembered in the format state
def _g_newpid(c, arg):
    a, b = (int(x) for x in arg.split('-'))
    c.st['pid'] = c.r(a, b)
    return str(c.st['pid'])


# MongoDB: msg is a constant string; the variables live in attr
def _mongo_attr(c, kind):
    cid = c.vars.setdefault('cid', c.r(1000, 900000))
    remote = c.vars.setdefault('remote', f'{GEN["ip"](c)}:{GEN["port"](c)}')
    if kind == 'accepted':
        return {'remote': remote, 'uuid': {'uuid': {'$uuid': GEN['uuid'](c)}}, 'connectionId': cid, 'connectionCount': c.r(5, 800)}
    if kind == 'ended':
        return {'remote': remote, 'uuid': {'uuid': {'$uuid': GEN['uuid'](c)}}, 'connectionId': cid, 'connectionCount': c.r(5, 800)}
    if kind == 'meta':
        drv = c.ch([('nodejs', '6.10.0'), ('PyMongo', '4.10.1'), ('mongo-java-driver|sync', '5.2.1'), ('mongo-go-driver', 'v1.17.1')])
        return {'remote': remote, 'client': f'conn{cid}', 'negotiatedCompressors': [],
                'doc': {'driver': {'name': drv[0], 'version': drv[1]}, 'os': {'type': 'Linux', 'name': 'linux', 'architecture': 'x86_64'}, 'platform': c.ch(['Node.js v20.18.0, LE', 'CPython 3.12.7.final.0', 'Java/Eclipse Adoptium/21.0.5+11-LTS'])}}
    if kind == 'first':
        return {'elapsedTimeMillis': c.r(0, 40)}
    if kind == 'authok':
        return {'mechanism': 'SCRAM-SHA-256', 'speculative': True, 'principalName': c.ch(['app', 'reporting', 'backup']), 'authenticationDatabase': 'admin', 'remote': remote, 'extraInfo': {}}
    if kind == 'authfail':
        return {'mechanism': 'SCRAM-SHA-256', 'speculative': False, 'principalName': c.ch(POOLS['bad_user']), 'authenticationDatabase': 'admin', 'remote': remote, 'extraInfo': {}, 'error': 'UserNotFound: Could not find user in admin'}
    if kind == 'slow':
        coll = c.ch(['orders', 'events', 'sessions', 'carts'])
        return {'type': 'command', 'isFromUserConnection': True, 'ns': f'shop.{coll}', 'collectionType': 'normal', 'appName': c.ch(['orders-api', 'reporting']),
                'command': {'find': coll, 'filter': {'customerId': c.r(1000, 99999)}, 'sort': {'createdAt': -1}, 'limit': 50, '$db': 'shop'},
                'planSummary': c.ch(['COLLSCAN', 'IXSCAN { customerId: 1, createdAt: -1 }']), 'keysExamined': c.r(0, 90000), 'docsExamined': c.r(0, 900000),
                'nreturned': c.r(0, 50), 'queryHash': GEN['HEX'](c, '8'), 'numYields': c.r(0, 900), 'reslen': c.r(100, 90000), 'protocol': 'op_msg', 'durationMillis': c.r(100, 30000)}
    if kind == 'wt':
        return {'message': {'ts_sec': int(epoch(c.now)), 'ts_usec': c.now.microsecond, 'thread': f'{c.r(1, 9)}:0x7f{GEN["hex"](c, "10")}',
                            'session_name': 'WT_SESSION.checkpoint', 'category': 'WT_VERB_CHECKPOINT_PROGRESS', 'category_id': 6,
                            'verbose_level': 'DEBUG_1', 'verbose_level_id': 1,
                            'msg': f'saving checkpoint snapshot min: {c.r(1000, 999999)}, snapshot max: {c.r(1000, 999999)} snapshot count: 0, oldest timestamp: (0, 0) , meta checkpoint timestamp: (0, 0) base write gen: {c.r(1000, 9999999)}'}}
    if kind == 'ttl':
        return {'namespace': c.ch(['shop.sessions', 'shop.carts', 'auth.tokens']), 'index': 'expireAt_1', 'numDeleted': c.r(0, 9000), 'durationMillis': c.r(0, 900)}
    if kind == 'newstate':
        return {'newState': c.ch(['SECONDARY', 'PRIMARY', 'RECOVERING']), 'oldState': c.ch(['STARTUP2', 'SECONDARY'])}
    return {}


@fmt('mongodb', n=340, start=D(2026, 12, 4, 12, 0, 0), days=3.0,
     title='MongoDB 7.0 structured JSON log (format introduced in 4.4)',
     source='https://www.mongodb.com/docs/manual/reference/log-messages/#structured-logging',
     header='one JSON object per line: `{"t":{"$date":...},"s":"I",  "c":"NETWORK",  "id":22943,   "ctx":"listener","msg":...,"attr":{...}}` (mongod pads s/c/id)',
     content='The value of `msg`. MongoDB messages are constant strings; the variable data lives in `attr`, so most templates have no `<*>`.')
def f_mongodb(c):
    def M(w, msg, s, comp, mid, ctx, kind=None, **kw):
        return T(w, msg, s=s, comp=comp, mid=mid, ctx=ctx, kind=kind, **kw)
    items = [
        S(20, M(0, 'Connection accepted', 'I', 'NETWORK', 22943, 'listener', 'accepted'),
              M(0, 'client metadata', 'I', 'NETWORK', 51800, 'conn', 'meta'),
              M(0, 'Authentication succeeded', 'I', 'ACCESS', 5286306, 'conn', 'authok'),
              M(0, 'Received first command on ingress connection since session start or auth handshake', 'I', 'NETWORK', 6788700, 'conn', 'first'),
              M(0, 'Connection ended', 'I', 'NETWORK', 22944, 'conn', 'ended'), gap=(0.001, 20)),
        S(4, M(0, 'Connection accepted', 'I', 'NETWORK', 22943, 'listener', 'accepted'),
             M(0, 'Authentication failed', 'I', 'ACCESS', 5286307, 'conn', 'authfail'),
             M(0, 'Interrupted operation as its client disconnected', 'I', 'NETWORK', 22989, 'conn', None),
             M(0, 'Connection ended', 'I', 'NETWORK', 22944, 'conn', 'ended')),
        M(12, 'Slow query', 'I', 'COMMAND', 51803, 'conn', 'slow'),
        M(10, 'WiredTiger message', 'I', 'WTCHKPT', 22430, 'Checkpointer', 'wt'),
        M(8, 'Deleted expired documents using index', 'I', 'INDEX', 5479200, 'TTLMonitor', 'ttl'),
        S(2, M(0, 'createCollection', 'I', 'STORAGE', 20320, 'conn', None),
             M(0, 'Index build: registering', 'I', 'INDEX', 20438, 'conn', None),
             M(0, 'Index build: starting', 'I', 'INDEX', 20384, 'IndexBuildsCoordinatorMongod-0', None),
             M(0, 'Index build: collection scan done', 'I', 'INDEX', 20391, 'IndexBuildsCoordinatorMongod-0', None),
             M(0, 'Index build: inserted keys from external sorter into index', 'I', 'INDEX', 20685, 'IndexBuildsCoordinatorMongod-0', None),
             M(0, 'Index build: done building', 'I', 'INDEX', 20663, 'IndexBuildsCoordinatorMongod-0', None)),
        M(3, 'Member is in new state', 'I', 'REPL', 21215, 'ReplCoord-', 'newstate'),
        S(1, M(0, 'MongoDB starting', 'I', 'CONTROL', 4615611, 'initandlisten', None, restart=True),
             M(0, 'Build Info', 'I', 'CONTROL', 23403, 'initandlisten', None),
             M(0, 'Operating System', 'I', 'CONTROL', 51765, 'initandlisten', None),
             M(0, 'Options set by command line', 'I', 'CONTROL', 21951, 'initandlisten', None),
             M(0, 'Opening WiredTiger', 'I', 'STORAGE', 22315, 'initandlisten', None),
             M(0, 'Listening on', 'I', 'NETWORK', 23015, 'listener', None),
             M(0, 'Waiting for connections', 'I', 'NETWORK', 23016, 'listener', None),
             M(0, 'Election succeeded, assuming primary role', 'I', 'REPL', 21450, 'ReplCoord-', None),
             M(0, 'Transition to primary complete; database writes are now permitted', 'I', 'REPL', 21331, 'OplogApplier-0', None),
             first=True, min=2, gap=(0.001, 0.8)),
    ]
    def line(c, t, msg, m):
        ctx = m['ctx']
        if ctx == 'conn':
            ctx = f'conn{c.vars.setdefault("cid", c.r(1000, 900000))}'
        elif ctx.endswith('-'):
            ctx += str(c.r(0, 40))
        attr = _mongo_attr(c, m['kind'])
        d = '"t":{"$date":"%s"},' % tfmt(t, '%Y-%m-%dT%H:%M:%S.%3+00:00')
        s = f'"s":"{m["s"]}",'
        s += ' ' * max(1, 10 - len(s))
        comp = f'"c":"{m["comp"]}",'
        comp += ' ' * max(1, 16 - len(comp))
        mid = f'"id":{m["mid"]},'
        mid += ' ' * max(1, 14 - len(mid))
        out = '{' + d + s + comp + mid + f'"ctx":{json.dumps(ctx)},"msg":{json.dumps(msg)}'
        if attr:
            out += ',"attr":' + json.dumps(attr, separators=(',', ':'))
        return out + '}'
    return dict(items=items, line=line, extract=jx('msg'))


# ---------------------------------------------------------------------------------------------- messaging
@gen('tp')  # topic-partition
def _g_tp(c, arg=None):
    return f'{c.ch(POOLS["topic"])}-{c.r(0, 11)}'


@gen('inc')  # «inc:k» = bound var k plus one (bound as k1)
def _g_inc(c, arg):
    c.vars[arg + '1'] = v = str(int(c.vars[arg]) + 1)
    return v


@gen('nox')  # bound hex var without its 0x
def _g_nox(c, arg):
    return c.vars[arg][2:]


@gen('member')
def _g_member(c, arg=None):
    g = c.vars.get('g') or c.ch(POOLS['cgroup'])
    return f'consumer-{g}-{c.r(1, 6)}-{GEN["uuid"](c)}'


@gen('isr')
def _g_isr(c, arg=None):
    return ','.join(str(x) for x in sorted([1] + c.rng.sample([2, 3, 4, 5], c.r(0, 2))))


@gen('epochms')
def _g_epochms(c, arg=None):
    return str(int(epoch(c.now) * 1000) - c.r(0, 7 * 86400 * 1000))


@fmt('kafka', n=380, start=D(2026, 12, 3, 8, 30, 12), days=4.0,
     title='Apache Kafka 3.8 broker (KRaft) server.log, log4j pattern `[%d] %p %m (%c)%n`',
     source='https://github.com/apache/kafka/blob/trunk/config/log4j.properties',
     header='`[yyyy-MM-dd HH:mm:ss,SSS] LEVEL ` and the trailing ` (logger.class)`',
     content='The message between the level and the trailing ` (logger)`.')
def f_kafka(c):
    GC = 'kafka.coordinator.group.GroupCoordinator'
    D_ = '/var/lib/kafka/data'
    items = [
        S(8, T(0, '[GroupCoordinator 1]: Dynamic member with unknown member id joins group «$g=cgroup» in Empty state. Created a new member id «$m=member» and request the member to rejoin with this id.', lg=GC),
             T(0, '[GroupCoordinator 1]: Preparing to rebalance group «$g» in state PreparingRebalance with old generation «$gen=i:0-400» (__consumer_offsets-«$p=i:0-49») (reason: Adding new member «$m» with group instance id None; client reason: need to re-join with the given member-id: «$m»)', lg=GC),
             T(0, '[GroupCoordinator 1]: Stabilized group «$g» generation «inc:gen» (__consumer_offsets-«$p») with «$n=i:1-12» members', lg=GC),
             T(0, '[GroupCoordinator 1]: Assignment received from leader «$m» for group «$g» for generation «$gen1». The group has «$n» members, 0 of which are static.', lg=GC), gap=(0.003, 3.1)),
        S(4, T(0, '[GroupCoordinator 1]: Member «$m=member» in group «$g=cgroup» has failed, removing it from the group', lg=GC),
             T(0, '[GroupCoordinator 1]: Group «$g» with generation «i:1-400» is now empty (__consumer_offsets-«i:0-49»)', lg=GC)),
        T(8, '[GroupMetadataManager brokerId=1] Removed «i:0-40» expired offsets in «i:0-9» milliseconds.', lg='kafka.coordinator.group.GroupMetadataManager'),
        S(14, T(0, f'[LocalLog partition=«$tp=tp», dir={D_}] Rolled new log segment at offset «i:100000-99999999» in «i:0-12» ms.', lg='kafka.log.LocalLog'),
              T(0, '[ProducerStateManager partition=«$tp»] Wrote producer snapshot at offset «i:100000-99999999» with «i:0-40» producer ids in «i:0-9» ms.', lg='org.apache.kafka.storage.internals.log.ProducerStateManager')),
        S(8, T(0, f'[UnifiedLog partition=«$tp=tp», dir={D_}] Deleting segment LogSegment(baseOffset=«i:0-9999999», size=«i:100000-1073741824», lastModifiedTime=«epochms», largestRecordTimestamp=«epochms») due to log retention time 604800000ms breach based on the largest record timestamp in the segment', lg='kafka.log.UnifiedLog'),
             T(0, f'[UnifiedLog partition=«$tp», dir={D_}] Incremented log start offset to «i:100000-99999999» due to segment deletion', lg='kafka.log.UnifiedLog'),
             T(0, f'[LocalLog partition=«$tp», dir={D_}] Deleting segment files LogSegment(baseOffset=«i:0-9999999», size=«i:100000-1073741824», lastModifiedTime=«epochms», largestRecordTimestamp=«epochms»)', lg='kafka.log.LocalLog$', gap=(60, 61))),
        T(4, '[Partition «tp» broker=1] Shrinking ISR from «isr» to «isr». Leader: (highWatermark: «i:1000-9999999», endOffset: «i:1000-9999999»). Out of sync replicas: (brokerId: «i:2-5», endOffset: «i:1000-9999999», lastCaughtUpTimeMs: «epochms»).', lg='kafka.cluster.Partition', lvl='INFO'),
        T(6, '[Partition «tp» broker=1] ISR updated to «isr» and version updated to «i:1-900»', lg='kafka.cluster.Partition'),
        T(3, '[ReplicaFetcherManager on broker 1] Removed fetcher for partitions Set(«tp», «tp»)', lg='kafka.server.ReplicaFetcherManager'),
        T(3, '[ReplicaFetcherManager on broker 1] Added fetcher to broker «$b=i:2-5» for partitions HashMap(«tp» -> InitialFetchState(Some(«AN:22»),BrokerEndPoint(id=«$b», host=kafka-«$b».kafka-headless.data.svc.cluster.local:9092),«i:1-90»,«i:1000-9999999»))', lg='kafka.server.ReplicaFetcherManager'),
        T(6, '[SocketServer listenerType=BROKER, nodeId=1] Failed authentication with /«ip» (channelId=10.4.1.21:9093-«ip»:«port»-«i:0-9»-«i:1-99999») (SSL handshake failed)', lg='org.apache.kafka.common.network.Selector'),
        T(4, '[TransactionCoordinator id=1] Initialized transactionalId «pick:orders-tx|payments-tx|outbox-relay»-«i:0-11» with producerId «i:1000-999999» and producer epoch «i:0-40» on partition __transaction_state-«i:0-49»', lg='kafka.coordinator.transaction.TransactionCoordinator'),
        T(2, '[SnapshotGenerator id=1] Creating new KRaft snapshot file snapshot 000000000000«i:10000000-99999999»-0000000«i:100-999» because we have waited at least 60 minute(s).', lg='org.apache.kafka.image.publisher.SnapshotGenerator'),
        T(4, '[NodeToControllerChannelManager id=1 name=forwarding] Client requested disconnect from node «i:3000-3002»', lg='org.apache.kafka.clients.NetworkClient', lvl='INFO'),
        T(3, '[ReplicaFetcher replicaId=1, leaderId=«i:2-5», fetcherId=0] Received UNKNOWN_TOPIC_OR_PARTITION from the leader for partition «tp». This error may be returned transiently when the partition is being created or deleted, but it is not expected to persist.', lg='kafka.server.ReplicaFetcherThread', lvl='WARN'),
    ]
    def line(c, t, msg, m):
        return f'[{tfmt(t, "%Y-%m-%d %H:%M:%S,%3")}] {m.get("lvl", "INFO")} {msg} ({m["lg"]})'
    return dict(items=items, line=line, extract=rx(r'^\[[^\]]+\] (?:TRACE|DEBUG|INFO|WARN|ERROR|FATAL) (?P<c>.*) \([\w.$]+\)$'))


@gen('epid')
def _g_epid(c, arg=None):
    return f'<0.{c.r(400, 90000)}.0>'


@gen('rmqsrv')
def _g_rmqsrv(c, arg=None):
    return f'10.2.0.{c.ch([11, 12, 13])}'


@fmt('rabbitmq', n=330, start=D(2026, 12, 10, 7, 45, 0), days=3.0,
     title='RabbitMQ 3.13 log file (default text format)',
     source='https://www.rabbitmq.com/docs/logging#log-message-format',
     header='`yyyy-mm-dd HH:MM:SS.ffffff+00:00 [level] <erlang.pid.0> `',
     content='Everything after the Erlang process id. Multi-line messages are written one line each, every line with its own header (RabbitMQ >= 3.9 behaviour).')
def f_rabbitmq(c):
    CONN = 'connection «$c» («$pi»:«$pp» -> «$ps»:5672)'
    items = [
        S(16, T(0, 'accepting AMQP connection «$c=epid» («$pi=ip»:«$pp=port» -> «$ps=rmqsrv»:5672)', lvl='info'),
              T(0, CONN + ' has a client-provided name: «pick:orders-service|billing-worker|celery@worker-1|notifier»', lvl='info'),
              T(0, CONN + ": user '«$u=pick:orders-svc|billing|celery|notifier|monitoring»' authenticated and granted access to vhost '«$v=pick:/|orders|billing»'", lvl='info'),
              T(0, "closing AMQP connection «$c» («$pi»:«$pp» -> «$ps»:5672, vhost: '«$v»', user: '«$u»')", lvl='info'), gap=(0.002, 900)),
        S(6, T(0, 'accepting AMQP connection «$c=epid» («$pi=ip»:«$pp=port» -> «$ps=rmqsrv»:5672)', lvl='info'),
             T(0, CONN + ": user '«$u=pick:orders-svc|billing|celery|notifier»' authenticated and granted access to vhost '«$v=pick:/|orders|billing»'", lvl='info'),
             T(0, "closing AMQP connection «$c» («$pi»:«$pp» -> «$ps»:5672, vhost: '«$v»', user: '«$u»'):", lvl='warning'),
             T(0, 'client unexpectedly closed TCP connection', lvl='warning', same=True), gap=(0.001, 900)),
        S(3, T(0, "Error on AMQP connection «$c=epid» («$pi=ip»:«$pp=port» -> «$ps=rmqsrv»:5672, vhost: '«$v=pick:/|orders»', user: '«pick:orders-svc|notifier»', state: running), channel «i:1-9»:", lvl='error'),
             T(0, "operation basic.publish caused a channel exception not_found: no exchange '«pick:events|orders.dlx|audit»' in vhost '«$v»'", lvl='error', same=True), gap=(0, 0.0005)),
        T(4, "HTTP access denied: user '«bad_user»' - invalid credentials", lvl='warning'),
        T(3, "Setting permissions for user '«pick:orders-svc|billing|celery|notifier»' in vhost '«pick:/|orders|billing»' to '.*', '.*', '.*'", lvl='info'),
        S(2, T(0, 'vm_memory_high_watermark set. Memory used:«i:6800000000-7900000000» allowed:6743876812', lvl='warning'),
             T(0, "memory resource limit alarm set on node 'rabbit@rmq-0'.", lvl='warning'),
             T(0, '**********************************************************', lvl='warning', same=True),
             T(0, '*** Publishers will be blocked until this alarm clears ***', lvl='warning', same=True),
             T(0, '**********************************************************', lvl='warning', same=True),
             T(0, 'vm_memory_high_watermark clear. Memory used:«i:5000000000-6700000000» allowed:6743876812', lvl='info'),
             T(0, "memory resource limit alarm cleared on node 'rabbit@rmq-0'", lvl='info'),
             T(0, 'memory resource limit alarm cleared across the cluster', lvl='info'), gap=(0, 40)),
        S(2, T(0, "node 'rabbit@rmq-«$n=i:1-2»' down: connection_closed", lvl='info'),
             T(0, "rabbit on node 'rabbit@rmq-«$n»' down", lvl='info'),
             T(0, "node 'rabbit@rmq-«$n»' up", lvl='info'),
             T(0, "rabbit on node 'rabbit@rmq-«$n»' up", lvl='info'), gap=(0.5, 120)),
        S(1, T(0, 'Starting RabbitMQ 3.13.7 on Erlang 26.2.5.5 [jit]', lvl='notice', restart=True),
             T(0, 'Memory high watermark set to 6431 MiB (6743876812 bytes) of 16078 MiB (16859692032 bytes) total', lvl='info'),
             T(0, 'Waiting for Mnesia tables for 30000 ms, 9 retries left', lvl='info'),
             T(0, 'Successfully synced tables from a peer', lvl='info'),
             T(0, 'started TCP listener on [::]:5672', lvl='info'),
             T(0, 'Server startup complete; «i:4-6» plugins started.', lvl='info'),
             first=True, min=2, gap=(0.01, 3)),
    ]
    def line(c, t, msg, m):
        if m.get('same') and 'lastpid' in c.st:
            p = c.st['lastpid']
        else:
            p = c.vars.get('c') or GEN['epid'](c)  # connection lines are logged by the connection process
        c.st['lastpid'] = p
        return f'{tfmt(t, "%Y-%m-%d %H:%M:%S.%6+00:00")} [{m["lvl"]}] {p} {msg}'
    return dict(items=items, line=line, extract=rx(r'^\S+ \S+ \[\w+\] <\d+\.\d+\.\d+> (?P<c>.*)$'))


@gen('zxid')
def _g_zxid(c, arg=None):
    return f'0x{c.r(0x100000000, 0x9ffffffff):x}'


@gen('zsess')
def _g_zsess(c, arg=None):
    return f'0x{c.ch(["1", "2", "3"])}{GEN["hex"](c, "15")}'


@fmt('zookeeper', n=310, start=D(2026, 12, 5, 20, 12, 0), days=3.5,
     title='Apache ZooKeeper 3.8 server log, pattern `%d{ISO8601} [myid:%X{myid}] - %-5p [%t:%C{1}@%L] - %m%n`',
     source='https://github.com/apache/zookeeper/blob/master/conf/logback.xml',
     header='`yyyy-MM-dd HH:mm:ss,SSS [myid:N] - LEVEL [thread:Class@line] - `',
     content='Everything after the `] - ` that closes the thread/class field.')
def f_zookeeper(c):
    items = [
        T(16, 'Expiring session «zsess», timeout of «pick:30000|40000|10000»ms exceeded', thr='SessionTracker', cls='SessionTrackerImpl', ln=170),
        T(14, 'Submitting global closeSession request for session «zsess»', thr='SessionTracker', cls='ZooKeeperServer', ln=628),
        T(12, 'Committing global session «zsess»', thr='CommitProcWorkThread-«i:1-8»', cls='LearnerSessionTracker', ln=105),
        T(8, 'Unable to read additional data from client, it probably closed the socket: address = /«ip»:«port», session = «zsess»', thr='NIOWorkerThread-«i:1-16»', cls='NIOServerCnxn', ln=284, lvl='WARN'),
        T(6, 'Invalid session «zsess» for client /«ip»:«port», probably expired', thr='NIOWorkerThread-«i:1-16»', cls='ZooKeeperServer', ln=1124),
        T(5, 'Refusing session request for client /«ip»:«port» as it has seen zxid «zxid» our last zxid is «zxid» client must try another server', thr='NIOWorkerThread-«i:1-16»', cls='ZooKeeperServer', ln=1461, lvl='WARN'),
        T(6, 'Creating new log file: log.«hex:9»', thr='SyncThread:1', cls='FileTxnLog', ln=284),
        S(5, T(0, 'Snapshotting: «$z=zxid» to /data/version-2/snapshot.«nox:z»', thr='Snapshot Thread', cls='FileTxnSnapLog', ln=479),
             T(0, 'Snapshot taken in «i:3-900» ms', thr='Snapshot Thread', cls='ZooKeeperServer', ln=543)),
        T(4, 'Processing ruok command from /«ip»:«port»', thr='NIOWorkerThread-«i:1-16»', cls='NIOServerCnxn', ln=507),
        T(3, 'Exception causing close of session «zsess»: Connection reset by peer', thr='NIOWorkerThread-«i:1-16»', cls='NIOServerCnxn', ln=386, lvl='WARN'),
        S(2, T(0, 'PEER: LOOKING', thr='QuorumPeer[myid=1](plain=[0:0:0:0:0:0:0:0]:2181)(secure=disabled)', cls='QuorumPeer', ln=1468),
             T(0, 'New election. My id = 1, proposed zxid=«zxid»', thr='QuorumPeer[myid=1](plain=[0:0:0:0:0:0:0:0]:2181)(secure=disabled)', cls='FastLeaderElection', ln=945),
             T(0, 'Notification: my state:LOOKING; n.sid:«i:1-3», n.state:LOOKING, n.leader:«i:1-3», n.round:0x«i:1-9», n.peerEpoch:0x«i:1-9», n.zxid:«zxid», message format version:0x2, n.config version:0x0', thr='WorkerReceiver[myid=1]', cls='FastLeaderElection', ln=700),
             T(0, 'Notification: my state:LOOKING; n.sid:«i:1-3», n.state:FOLLOWING, n.leader:«i:1-3», n.round:0x«i:1-9», n.peerEpoch:0x«i:1-9», n.zxid:«zxid», message format version:0x2, n.config version:0x0', thr='WorkerReceiver[myid=1]', cls='FastLeaderElection', ln=700),
             T(0, 'PEER: FOLLOWING', thr='QuorumPeer[myid=1](plain=[0:0:0:0:0:0:0:0]:2181)(secure=disabled)', cls='QuorumPeer', ln=1542),
             T(0, 'FOLLOWING - LEADER ELECTION TOOK - «i:40-900» MS', thr='QuorumPeer[myid=1](plain=[0:0:0:0:0:0:0:0]:2181)(secure=disabled)', cls='Learner', ln=81),
             T(0, 'Getting a diff from the leader «zxid»', thr='QuorumPeer[myid=1](plain=[0:0:0:0:0:0:0:0]:2181)(secure=disabled)', cls='Learner', ln=575),
             T(0, 'Peer state changed: following - synchronization - diff', thr='QuorumPeer[myid=1](plain=[0:0:0:0:0:0:0:0]:2181)(secure=disabled)', cls='QuorumPeer', ln=901),
             T(0, 'Peer state changed: following - broadcast', thr='QuorumPeer[myid=1](plain=[0:0:0:0:0:0:0:0]:2181)(secure=disabled)', cls='QuorumPeer', ln=901),
             min=2, gap=(0.001, 0.3)),
        T(3, 'Cannot open channel to «i:2-3» at election address zk-«i:1-2».zk-hs.data.svc.cluster.local/«ip»:3888', thr='QuorumConnectionThread-[myid=1]-«i:1-9»', cls='QuorumCnxManager', ln=401, lvl='WARN'),
        T(3, 'Received connection request from /«ip»:«port»', thr='ListenerHandler-zk-0.zk-hs.data.svc.cluster.local/«ip»:3888', cls='QuorumCnxManager$Listener', ln=1065),
    ]
    def line(c, t, msg, m):
        thr = render(m['thr'], c)[0]
        return f'{tfmt(t, "%Y-%m-%d %H:%M:%S,%3")} [myid:1] - {m.get("lvl", "INFO"):<5} [{thr}:{m["cls"]}@{m["ln"]}] - {msg}'
    return dict(items=items, line=line, extract=rx(r'^\S+ \S+ \[myid:\d*\] - \w+ +\[.*?:[\w$]+@\d+\] - (?P<c>.*)$'))


# ---------------------------------------------------------------------------------------------- JVM apps
@fmt('logback', n=360, start=D(2026, 12, 11, 6, 0, 0), days=2.5,
     title='Java logback default pattern `%d{HH:mm:ss.SSS} [%thread] %-5level %logger{36} - %msg%n`',
     source='https://logback.qos.ch/manual/layouts.html#ClassicPatternLayout (the default of BasicConfigurator / logback.xml examples)',
     header='`HH:mm:ss.SSS [thread] LEVEL logger - ` (no date; level padded to 5; logger abbreviated to 36 chars)',
     content='Everything after the first ` - ` that follows the logger name.')
def f_logback(c):
    OS = 'c.e.orders.service.OrderService'
    items = [
        S(1, T(0, 'HikariPool-1 - Starting...', th='main', lg='com.zaxxer.hikari.HikariDataSource'),
             T(0, 'HikariPool-1 - Added connection org.postgresql.jdbc.PgConnection@«hex:8»', th='main', lg='com.zaxxer.hikari.pool.HikariPool'),
             T(0, 'HikariPool-1 - Start completed.', th='main', lg='com.zaxxer.hikari.HikariDataSource'), first=True, min=2),
        T(4, 'HikariPool-1 - Connection is not available, request timed out after «i:30000-30020»ms (total=10, active=10, idle=0, waiting=«i:1-40»)', th='http-nio-8080-exec-«i:1-200»', lg='com.zaxxer.hikari.pool.HikariPool', lvl='WARN'),
        T(3, 'HikariPool-1 - Thread starvation or clock leap detected (housekeeper delta=«i:1-3»m«i:1-59»s«i:1-999»ms).', th='HikariPool-1 housekeeper', lg='com.zaxxer.hikari.pool.HikariPool', lvl='WARN'),
        T(20, 'Order «uuid» created for customer «i:10000-999999» with «i:1-14» items, total=«f:3-900:2»', th='http-nio-8080-exec-«i:1-200»', lg=OS),
        T(12, 'Payment authorized for order «uuid» (amount=«f:3-900:2» «currency»)', th='http-nio-8080-exec-«i:1-200»', lg='c.e.orders.payment.PaymentClient'),
        T(4, 'Refund issued for order «uuid» (amount=«f:3-900:2» «currency»)', th='http-nio-8080-exec-«i:1-200»', lg='c.e.orders.payment.PaymentClient'),
        T(16, 'Processing message from topic «topic» partition «i:0-11» offset «i:1000-99999999»', th='org.springframework.kafka.KafkaListenerEndpointContainer#0-0-C-1', lg='c.e.orders.events.OrderEventListener'),
        T(5, '[Consumer clientId=consumer-orders-1, groupId=orders] Resetting offset for partition «tp» to position FetchPosition{offset=«i:1000-99999999», offsetEpoch=Optional.empty, currentLeader=LeaderAndEpoch{leader=Optional[kafka-«i:0-2».kafka-headless:9092 (id: «i:0-2» rack: null)], epoch=«i:1-90»}}.', th='org.springframework.kafka.KafkaListenerEndpointContainer#0-0-C-1', lg='o.a.k.c.c.internals.SubscriptionState'),
        T(5, '[Consumer clientId=consumer-orders-1, groupId=orders] Request joining group due to: need to re-join with the given member-id: consumer-orders-1-«uuid»', th='org.springframework.kafka.KafkaListenerEndpointContainer#0-0-C-1', lg='o.a.k.c.c.internals.ConsumerCoordinator'),
        T(6, 'Retrying inventory reservation for order «uuid» (attempt «i:2-3» of 3)', th='http-nio-8080-exec-«i:1-200»', lg=OS, lvl='WARN'),
        T(4, 'Failed to reserve inventory for order «uuid»: HTTP «pick:409|503|504» from inventory-service', th='http-nio-8080-exec-«i:1-200»', lg=OS, lvl='ERROR'),
        T(10, 'Cache miss for product «i:1000-99999», loading from database', th='http-nio-8080-exec-«i:1-200»', lg='c.e.orders.catalog.ProductCache', lvl='DEBUG'),
        T(4, 'Evicted «i:1-5000» entries from product cache in «i:0-90» ms', th='scheduling-1', lg='c.e.orders.catalog.ProductCache'),
        T(4, 'Job cleanupExpiredCarts finished in «i:5-4000» ms, removed «i:0-900» carts', th='scheduling-1', lg='c.e.orders.jobs.CartCleanupJob'),
        T(3, 'Slow request: «pick:GET|POST» «path» took «i:1000-9000» ms', th='http-nio-8080-exec-«i:1-200»', lg='c.e.orders.web.TimingFilter', lvl='WARN'),
    ]
    def line(c, t, msg, m):
        th = render(m['th'], c)[0]
        return f'{tfmt(t, "%H:%M:%S.%3")} [{th}] {m.get("lvl", "INFO"):<5} {m["lg"]} - {msg}'
    return dict(items=items, line=line, extract=rx(r'^\d\d:\d\d:\d\d\.\d{3} \[.*?\] (?:TRACE|DEBUG|INFO|WARN|ERROR) +\S+ - (?P<c>.*)$'))


def _spring_thread(name):
    return name[-15:].rjust(15)


def _spring_logger(name):
    return name[:40].ljust(40)


@fmt('spring_boot', n=330, start=D(2026, 12, 4, 9, 12, 40), days=3.0,
     title='Spring Boot 3.3 default console/file log format',
     source='https://docs.spring.io/spring-boot/reference/features/logging.html#features.logging.log-format',
     header='`yyyy-MM-ddTHH:mm:ss.SSSXXX  LEVEL PID --- [app] [thread(15, right-aligned)] logger(40, left-aligned) : `',
     content='Everything after the ` : ` that follows the padded logger name.')
def f_spring(c):
    A = 'c.e.billing.BillingApplication'
    TW = 'o.s.b.w.embedded.tomcat.TomcatWebServer'
    items = [
        S(1, T(0, 'Starting BillingApplication v2.14.«i:0-9» using Java 21.0.5 with PID «newpid:1-99» (/app/app.jar started by spring in /app)', th='main', lg=A),
             T(0, 'The following 1 profile is active: "prod"', th='main', lg=A),
             T(0, 'Tomcat initialized with port 8080 (http)', th='main', lg=TW),
             T(0, 'Starting service [Tomcat]', th='main', lg='o.apache.catalina.core.StandardService'),
             T(0, 'Starting Servlet engine: [Apache Tomcat/10.1.33]', th='main', lg='o.apache.catalina.core.StandardEngine'),
             T(0, 'Initializing Spring embedded WebApplicationContext', th='main', lg='o.a.c.c.C.[Tomcat].[localhost].[/]'),
             T(0, 'Root WebApplicationContext: initialization completed in «i:600-4000» ms', th='main', lg='w.s.c.ServletWebServerApplicationContext'),
             T(0, 'HHH000204: Processing PersistenceUnitInfo [name: default]', th='main', lg='o.hibernate.jpa.internal.util.LogHelper'),
             T(0, "HHH90000025: PostgreSQLDialect does not need to be specified explicitly using 'hibernate.dialect' (remove the property setting and it will be selected by default)", th='main', lg='org.hibernate.orm.deprecation', lvl='WARN'),
             T(0, "Exposing «i:1-4» endpoints beneath base path '/actuator'", th='main', lg='o.s.b.a.e.web.EndpointLinksResolver'),
             T(0, "Tomcat started on port 8080 (http) with context path '/'", th='main', lg=TW),
             T(0, 'Started BillingApplication in «f:4-19:3» seconds (process running for «f:19-25:3»)', th='main', lg=A),
             first=True, min=2, gap=(0.005, 1.2)),
        S(0.3, T(0, "Initializing Spring DispatcherServlet 'dispatcherServlet'", th='http-nio-8080-exec-1', lg='o.a.c.c.C.[Tomcat].[localhost].[/]'),
             T(0, "Initializing Servlet 'dispatcherServlet'", th='http-nio-8080-exec-1', lg='o.s.web.servlet.DispatcherServlet'),
             T(0, 'Completed initialization in «i:1-4» ms', th='http-nio-8080-exec-1', lg='o.s.web.servlet.DispatcherServlet')),
        T(20, 'Generated invoice INV-«i:2026000-2026999» for account «i:10000-99999» (total «f:5-9000:2» EUR)', th='scheduling-1', lg='c.e.billing.invoice.InvoiceService'),
        T(14, 'Sending invoice INV-«i:2026000-2026999» to «email»', th='task-«i:1-8»', lg='c.e.billing.mail.InvoiceMailer'),
        T(4, 'Failed to send invoice INV-«i:2026000-2026999»: Connection timed out (smtp.example.com:587)', th='task-«i:1-8»', lg='c.e.billing.mail.InvoiceMailer', lvl='ERROR'),
        T(8, 'Charge «pick:ch|py»_«AN:24» succeeded for account «i:10000-99999»', th='http-nio-8080-exec-«i:1-200»', lg='c.e.billing.payment.StripeGateway'),
        T(5, 'Charge for account «i:10000-99999» declined: «pick:card_declined|insufficient_funds|expired_card»', th='http-nio-8080-exec-«i:1-200»', lg='c.e.billing.payment.StripeGateway', lvl='WARN'),
        T(6, "Resolved [org.springframework.web.HttpRequestMethodNotSupportedException: Request method '«pick:GET|PUT|DELETE»' is not supported]", th='http-nio-8080-exec-«i:1-200»', lg='.w.s.m.s.DefaultHandlerExceptionResolver', lvl='WARN'),
        T(4, 'Servlet.service() for servlet [dispatcherServlet] in context with path [] threw exception [Request processing failed: java.lang.IllegalStateException: Account «i:10000-99999» is locked] with root cause', th='http-nio-8080-exec-«i:1-200»', lg='o.a.c.c.C.[.[.[/].[dispatcherServlet]', lvl='ERROR'),
        T(3, 'HikariPool-1 - Failed to validate connection org.postgresql.jdbc.PgConnection@«hex:8» (This connection has been closed.). Possibly consider using a shorter maxLifetime value.', th='http-nio-8080-exec-«i:1-200»', lg='com.zaxxer.hikari.pool.PoolBase', lvl='WARN'),
        S(1, T(0, 'Commencing graceful shutdown. Waiting for active requests to complete', th='SpringApplicationShutdownHook', lg=TW),
             T(0, 'Graceful shutdown complete', th='tomcat-shutdown', lg=TW),
             T(0, 'HikariPool-1 - Shutdown initiated...', th='SpringApplicationShutdownHook', lg='com.zaxxer.hikari.HikariDataSource'),
             T(0, 'HikariPool-1 - Shutdown completed.', th='SpringApplicationShutdownHook', lg='com.zaxxer.hikari.HikariDataSource'), min=2),
    ]
    def line(c, t, msg, m):
        c.st.setdefault('pid', c.r(1, 99))
        th = render(m['th'], c)[0]
        return (f'{tfmt(t, "%Y-%m-%dT%H:%M:%S.%3Z")} {m.get("lvl", "INFO"):>5} {c.st["pid"]} --- [billing] '
                f'[{_spring_thread(th)}] {_spring_logger(m["lg"])} : {msg}')
    return dict(items=items, line=line, extract=rx(r'^\S+ +[A-Z]+ \d+ --- \[[^\]]*\] \[.{15}\] .{40} : (?P<c>.*)$'))


# ---------------------------------------------------------------------------------------------- Go
@fmt('zap_json', n=360, start=D(2026, 12, 6, 18, 20, 0), days=2.8,
     title='Go uber-go/zap production JSON encoder (NewProduction)',
     source='https://pkg.go.dev/go.uber.org/zap#NewProductionEncoderConfig',
     header='JSON object: `level`, `ts` (epoch seconds, float), `caller`, `msg`, then fields (and `stacktrace` on errors)',
     content='The value of `msg`. Structured (non-sugared) zap messages are constant strings; sugared `Infof` calls put variables into the message.')
def f_zap(c):
    items = [
        T(30, 'request completed', lvl='info', caller='httpserver/middleware.go:88', kind='req'),
        T(6, 'request failed', lvl='error', caller='httpserver/middleware.go:94', kind='reqerr'),
        T(8, 'upstream call failed, retrying', lvl='warn', caller='client/retry.go:61', kind='retry'),
        T(14, 'processed message', lvl='info', caller='consumer/handler.go:142', kind='msg'),
        T(3, 'dead-lettered message', lvl='error', caller='consumer/handler.go:171', kind='dlq'),
        T(5, 'consumer lag above threshold', lvl='warn', caller='consumer/lag.go:39', kind='lag'),
        T(5, 'cache refresh finished in «gdur»', lvl='info', caller='cache/refresher.go:77'),
        T(4, 'loaded «i:10-400» feature flags from https://flags.internal.example.com/v1/projects/«pick:checkout|catalog»', lvl='info', caller='flags/loader.go:52'),
        T(4, 'jwt validation failed: token is expired by «gdur»', lvl='warn', caller='auth/jwt.go:118'),
        T(4, 'rate limit exceeded', lvl='warn', caller='httpserver/ratelimit.go:47', kind='rl'),
        T(4, 'health check failed for «pick:redis|postgres|payments-api»: context deadline exceeded', lvl='error', caller='health/checker.go:66'),
        S(1, T(0, 'starting service', lvl='info', caller='cmd/server/main.go:41', kind='start', restart=True),
             T(0, 'connected to postgres at «ip»:5432', lvl='info', caller='store/postgres.go:58'),
             T(0, 'migrations applied', lvl='info', caller='store/migrate.go:33', kind='mig'),
             T(0, 'listening', lvl='info', caller='httpserver/server.go:71', kind='listen'), first=True, min=2),
        S(1, T(0, 'shutting down', lvl='info', caller='cmd/server/main.go:77', kind='sig'),
             T(0, 'server stopped', lvl='info', caller='httpserver/server.go:96'), min=2),
    ]
    def fields(c, kind):
        f = {}
        if kind in ('req', 'reqerr'):
            f = {'method': c.ch(['GET', 'GET', 'POST', 'PUT']), 'path': c.ch(['/v1/items', '/v1/items/%d' % c.r(1, 99999), '/v1/cart', '/healthz']),
                 'status': 200 if kind == 'req' else c.ch([500, 502, 504]), 'latency': round(c.rng.uniform(0.0005, 2.5), 6),
                 'request_id': GEN['uuid'](c), 'remote_addr': f'{GEN["ip"](c)}:{GEN["port"](c)}'}
            if kind == 'reqerr':
                f['error'] = c.ch(['context deadline exceeded', 'pq: canceling statement due to user request', 'EOF'])
        elif kind == 'retry':
            f = {'upstream': c.ch(['payments-api', 'inventory-api']), 'attempt': c.r(1, 4), 'backoff': round(c.rng.uniform(0.1, 3.2), 3), 'error': 'dial tcp %s:443: i/o timeout' % GEN['ip'](c)}
        elif kind in ('msg', 'dlq'):
            f = {'topic': c.ch(POOLS['topic']), 'partition': c.r(0, 11), 'offset': c.r(1000, 9999999)}
            if kind == 'dlq':
                f['error'] = 'json: cannot unmarshal string into Go struct field Event.amount of type int64'
        elif kind == 'lag':
            f = {'group': c.ch(POOLS['cgroup']), 'lag': c.r(10000, 900000)}
        elif kind == 'rl':
            f = {'client_ip': GEN['pip'](c), 'limit': 100, 'window': '1m0s'}
        elif kind == 'start':
            f = {'version': 'v1.19.%d' % c.r(0, 9), 'commit': GEN['hex'](c, '7'), 'go': 'go1.23.4'}
        elif kind == 'mig':
            f = {'version': c.r(100, 180), 'dirty': False}
        elif kind == 'listen':
            f = {'addr': ':8080'}
        elif kind == 'sig':
            f = {'signal': 'terminated'}
        return f
    def line(c, t, msg, m):
        d = {'level': m['lvl'], 'ts': float(f'{epoch(t):.7f}'), 'caller': m['caller'], 'msg': msg}
        d.update(fields(c, m.get('kind')))
        if m['lvl'] == 'error':
            d['stacktrace'] = f'main.(*Server).handle\n\t/src/{m["caller"].split(":")[0]}:{m["caller"].split(":")[1]}\nnet/http.HandlerFunc.ServeHTTP\n\t/usr/local/go/src/net/http/server.go:2220'
        return json.dumps(d, separators=(',', ':'), ensure_ascii=False)
    return dict(items=items, line=line, extract=jx('msg'))


def _logrus_q(v):
    if v and re.fullmatch(r'[A-Za-z0-9\-._/@^+]+', v):
        return v
    return json.dumps(v, ensure_ascii=False)


def _logrus_unq(v):
    return json.loads(v) if v.startswith('"') else v


@fmt('logrus', n=340, start=D(2026, 12, 8, 13, 5, 0), days=3.5,
     title='Go sirupsen/logrus TextFormatter (Docker daemon / containerd journal lines)',
     source='https://github.com/sirupsen/logrus#formatters',
     header='`time="RFC3339Nano" level=LEVEL msg=` … the msg value … then sorted ` key=value` fields',
     content='The value of `msg=`, unquoted (Go `%q` escaping removed), without the `key=value` fields that follow it. This is consistent with the JSON formats, where Content is the message field.')
def f_logrus(c):
    items = [
        T(16, 'ignoring event', lvl='info', kv='container=«$id=hex:64» module=libcontainerd namespace=moby topic=/tasks/delete type="*events.TaskDelete"'),
        T(12, 'shim disconnected', lvl='info', kv='id=«$id=hex:64» namespace=moby'),
        T(12, 'cleaning up after shim disconnected', lvl='warning', kv='id=«$id=hex:64» namespace=moby'),
        T(10, 'cleaning up dead shim', lvl='info', kv='namespace=moby'),
        T(6, 'Container «hex:64» failed to exit within 10 seconds of signal 15 - using the force', lvl='info'),
        T(6, 'Handler for GET /v1.47/containers/«$i=hex:12»/json returned error: No such container: «$i»', lvl='error'),
        T(4, 'Handler for POST /v1.47/containers/«$i=hex:12»/stop returned error: No such container: «$i»', lvl='error'),
        T(5, 'Attempting next endpoint for pull after error: manifest unknown: manifest unknown', lvl='info'),
        T(4, 'Error getting v2 registry: Get "https://registry.example.com/v2/": net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)', lvl='info'),
        T(4, 'Not continuing with pull after error: context canceled', lvl='info'),
        T(5, 'sbJoin: gwep4 \'\'->\'«hex:7»\', gwep6 \'\'->\'\'', lvl='info', kv='eid=«hex:7» ep=«pick:api|worker|web»-«i:1-3» net=bridge nid=«hex:7»'),
        T(3, 'failed to read oom_kill event', lvl='warning', kv='error="open /sys/fs/cgroup/system.slice/docker-«hex:64».scope/memory.events: no such file or directory"'),
        S(1, T(0, 'Processing signal \'terminated\'', lvl='info'),
             T(0, 'stopping event stream following graceful shutdown', lvl='info', kv='error="<nil>" module=libcontainerd namespace=moby'),
             T(0, 'Daemon shutdown complete', lvl='info'),
             T(0, 'Starting up', lvl='info'),
             T(0, 'Loading containers: start.', lvl='info'),
             T(0, 'Loading containers: done.', lvl='info'),
             T(0, 'Docker daemon', lvl='info', kv='commit=41ca978 containerd-snapshotter=false storage-driver=overlay2 version=27.4.1'),
             T(0, 'Daemon has completed initialization', lvl='info'),
             T(0, 'API listen on /run/docker.sock', lvl='info'), min=2, gap=(0.01, 2.5)),
    ]
    def line(c, t, msg, m):
        ts = tfmt(t, '%Y-%m-%dT%H:%M:%S.%6') + f'{c.r(0, 999):03d}Z'
        out = f'time="{ts}" level={m["lvl"]} msg={_logrus_q(msg)}'
        if m.get('kv'):
            out += ' ' + render(m['kv'], c)[0]
        return out
    lr = re.compile(r'^time="[^"]+" level=\w+ msg=("(?:[^"\\]|\\.)*"|\S+)')
    def ex(line):
        mm = lr.match(line)
        return _logrus_unq(mm.group(1)) if mm else None
    return dict(items=items, line=line, extract=ex)


@gen('pod')
def _g_pod(c, arg=None):
    dep = c.ch(POOLS['deploy'])
    return f'{c.ch(["default", "prod", "payments"])}/{dep}-{GEN["hex"](c, "9" if c.rng.random() < 0.5 else "10")}-{GEN["an"](c, "5")}'


@fmt('klog', n=380, start=D(2026, 12, 4, 10, 15, 30), days=3.0,
     title='Kubernetes klog text format (kubelet journal output, structured InfoS/ErrorS messages)',
     source='https://github.com/kubernetes/klog#klog and https://kubernetes.io/docs/concepts/cluster-administration/system-logs/#klog-output',
     header='`Lmmdd hh:mm:ss.uuuuuu threadid file:line] ` (L = I/W/E/F; the thread id is right-aligned to 7)',
     content='Everything after `] `: for structured lines that is the quoted message followed by its key="value" pairs, which are part of Content.')
def f_klog(c):
    P = 'pod="«$p=pod»" podUID="«$u=uuid»"'
    items = [
        T(8, '"SyncLoop ADD" source="api" pods=["«pod»"]', f='kubelet.go:2459'),
        T(10, '"SyncLoop UPDATE" source="api" pods=["«pod»"]', f='kubelet.go:2475'),
        T(6, '"SyncLoop DELETE" source="api" pods=["«pod»"]', f='kubelet.go:2466'),
        T(5, '"SyncLoop REMOVE" source="api" pods=["«pod»"]', f='kubelet.go:2469'),
        T(10, '"SyncLoop (PLEG): event for pod" pod="«pod»" event={"ID":"«uuid»","Type":"ContainerStarted","Data":"«hex:64»"}', f='kubelet.go:2491'),
        T(7, '"SyncLoop (PLEG): event for pod" pod="«pod»" event={"ID":"«uuid»","Type":"ContainerDied","Data":"«hex:64»"}', f='kubelet.go:2491'),
        T(6, '"Killing container with a grace period" ' + P + ' containerName="«pick:app|web|sidecar|istio-proxy»" containerID="containerd://«hex:64»" gracePeriod=«pick:30|60|10»', f='kuberuntime_container.go:809'),
        T(6, '"RemoveContainer" containerID="«hex:64»"', f='scope.go:117'),
        T(8, '"Probe failed" probeType="Readiness" ' + P + ' containerName="app" probeResult="failure" output="Get \\"http://«$ip=ip»:8080/ready\\": dial tcp «$ip»:8080: connect: connection refused"', f='prober.go:107'),
        T(4, '"Probe failed" probeType="Liveness" ' + P + ' containerName="app" probeResult="failure" output="Get \\"http://«$ip=ip»:8080/healthz\\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)"', f='prober.go:107'),
        T(6, '"Error syncing pod, skipping" err="failed to \\"StartContainer\\" for \\"app\\" with CrashLoopBackOff: \\"back-off «pick:10s|20s|40s|1m20s|2m40s|5m0s» restarting failed container=app pod=«podus»(«$u=uuid»)\\"" pod="«$p»" podUID="«$u»"', f='pod_workers.go:1301', lvl='E'),
        T(5, '"operationExecutor.UnmountVolume started for volume \\"kube-api-access-«$v=an:5»\\" (UniqueName: \\"kubernetes.io/projected/«$u=uuid»-kube-api-access-«$v»\\") pod \\"«$u»\\" (UID: \\"«$u»\\") "', f='reconciler_common.go:159'),
        T(5, '"Volume detached for volume \\"kube-api-access-«$v=an:5»\\" (UniqueName: \\"kubernetes.io/projected/«$u=uuid»-kube-api-access-«$v»\\") on node \\"«node»\\" DevicePath \\"\\""', f='reconciler_common.go:299'),
        T(5, '"MountVolume.SetUp succeeded for volume \\"«$v=pick:config|secrets|tls»\\" (UniqueName: \\"kubernetes.io/«pick:configmap|secret»/«$u=uuid»-«$v»\\") pod \\"«podname»\\" (UID: \\"«$u»\\") "', f='operation_generator.go:721'),
        T(5, '"Observed pod startup duration" pod="«pod»" podStartSLOduration=«f:0.5-40:6» podStartE2EDuration="«gdur»" podCreationTimestamp="«tsago:%Y-%m-%d %H:%M:%S +0000 UTC»" firstStartedPulling="0001-01-01 00:00:00 +0000 UTC" lastFinishedPulling="0001-01-01 00:00:00 +0000 UTC" observedRunningTime="«ts:%Y-%m-%d %H:%M:%S.%6»«i:100-999» +0000 UTC m=+«f:1000-300000:9»" watchObservedRunningTime="«ts:%Y-%m-%d %H:%M:%S.%6»«i:100-999» +0000 UTC m=+«f:1000-300000:9»"', f='pod_startup_latency_tracker.go:104'),
        T(3, '"Eviction manager: attempting to reclaim" resourceName="ephemeral-storage"', f='eviction_manager.go:369', lvl='W'),
        T(3, '"Image garbage collection failed once. Stats initialization may not have completed yet" err="invalid capacity 0 on image filesystem"', f='kubelet.go:1464', lvl='E'),
        T(4, 'k8s.io/client-go/informers/factory.go:160: failed to list *v1.Service: Get "https://10.96.0.1:443/api/v1/services?limit=500&resourceVersion=0": dial tcp 10.96.0.1:443: connect: connection refused', f='reflector.go:561', lvl='W'),
        T(4, 'k8s.io/client-go/informers/factory.go:160: failed to list *v1.Node: Get "https://10.96.0.1:443/api/v1/nodes?fieldSelector=metadata.name%3D«$n=node»&limit=500&resourceVersion=0": dial tcp 10.96.0.1:443: connect: connection refused', f='reflector.go:561', lvl='W'),
        T(3, '"Failed to update lease" err="Put \\"https://10.96.0.1:443/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/«node»?timeout=10s\\": context deadline exceeded"', f='controller.go:195', lvl='E'),
    ]
    def line(c, t, msg, m):
        if 'pid' not in c.st:
            c.st['pid'] = c.r(800, 9000)
        f = m['f']
        return f'{m.get("lvl", "I")}{tfmt(t, "%m%d %H:%M:%S.%6")} {c.st["pid"]:>7} {f}] {msg}'
    return dict(items=items, line=line, extract=rx(r'^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d{6} +\d+ [\w.-]+:\d+\] (?P<c>.*)$'))


@gen('podus')  # binds p (ns/name) and returns name_ns, as kubelet prints it in back-off errors
def _g_podus(c, arg=None):
    p = c.vars['p'] = GEN['pod'](c)
    ns, name = p.split('/')
    return f'{name}_{ns}'


@gen('podname')
def _g_podname(c, arg=None):
    return GEN['pod'](c).split('/')[1]


@gen('node')
def _g_node(c, arg=None):
    if 'node' not in c.st:  # a kubelet log belongs to one node
        c.st['node'] = c.ch(['ip-10-0-3-17.eu-west-1.compute.internal', 'ip-10-0-1-203.eu-west-1.compute.internal'])
    return c.st['node']


# ---------------------------------------------------------------------------------------------- Python
@fmt('python_default', n=300, start=D(2026, 12, 4, 0, 0, 0), days=1.0,
     title='Python logging default format `%(levelname)s:%(name)s:%(message)s` (logging.basicConfig() with no arguments)',
     source='https://docs.python.org/3/library/logging.html#logging.BASIC_FORMAT',
     header='`LEVEL:logger.name:` (no timestamp at all)',
     content='Everything after the second colon (logger names contain no colons; messages may).')
def f_python_default(c):
    U = 'urllib3.connectionpool'
    items = [
        T(12, 'Starting new HTTPS connection («i:1-9»): api.«pick:partner-a.example.com|partner-b.example.net»:443', lvl='DEBUG', lg=U),
        T(18, 'https://api.partner-a.example.com:443 "GET /v2/shipments?page=«i:1-300»&per_page=100 HTTP/1.1" «pick:200|200|200|429|500» «i:20-90000»', lvl='DEBUG', lg=U),
        T(8, 'https://api.partner-a.example.com:443 "POST /v2/shipments/«i:100000-999999»/events HTTP/1.1" «pick:201|201|409» «i:20-900»', lvl='DEBUG', lg=U),
        T(5, "Retrying (Retry(total=«i:0-4», connect=None, read=None, redirect=None, status=None)) after connection broken by 'ReadTimeoutError(\"HTTPSConnectionPool(host='api.partner-a.example.com', port=443): Read timed out. (read timeout=10)\")': /v2/shipments?page=«i:1-300»&per_page=100", lvl='WARNING', lg=U),
        T(3, 'Connection pool is full, discarding connection: api.partner-a.example.com. Connection pool size: 10', lvl='WARNING', lg=U),
        T(14, 'Processing batch «i:1-400»/«i:400-450» («i:1-5000» records)', lvl='INFO', lg='etl.pipeline'),
        T(8, 'Loaded «i:1-500000» rows from s3://«bucket»/exports/«ts:%Y/%m/%d»/part-«i:0-63».parquet in «f:0.2-60:2»s', lvl='INFO', lg='etl.sources.s3'),
        T(6, 'Skipping malformed record at line «i:1-500000»: «pick:missing field \'tracking_id\'|invalid date \'0000-00-00\'|negative weight»', lvl='WARNING', lg='etl.transform'),
        T(8, 'Wrote «i:1-500000» rows to warehouse.«pick:shipments|shipment_events|carriers»', lvl='INFO', lg='etl.sinks.postgres'),
        T(4, 'Job finished in «f:2-3600:1»s', lvl='INFO', lg='root'),
        T(3, 'Found credentials in environment variables.', lvl='INFO', lg='botocore.credentials'),
        T(3, 'Task exception was never retrieved', lvl='ERROR', lg='asyncio'),
        T(3, 'Executing <Task pending name=\'Task-«i:2-900»\' coro=<fetch_page() running at /app/etl/sources/partner.py:«i:40-90»> wait_for=<Future pending cb=[Task.task_wakeup()]>> took «f:0.1-3:3» seconds', lvl='WARNING', lg='asyncio'),
        T(3, 'Checkpoint saved: /var/lib/etl/checkpoints/shipments-«ts:%Y%m%dT%H%M%S».json', lvl='INFO', lg='etl.state'),
    ]
    def line(c, t, msg, m):
        return f'{m["lvl"]}:{m["lg"]}:{msg}'
    return dict(items=items, line=line, extract=rx(r'^(?:DEBUG|INFO|WARNING|ERROR|CRITICAL):[^:]*:(?P<c>.*)$'))


@gen('nextrun')
def _g_nextrun(c, arg=None):
    return tfmt(c.now + timedelta(minutes=5), '%Y-%m-%d %H:%M:%S UTC')


@gen('missed')
def _g_missed(c, arg=None):
    return f'0:00:{c.r(10, 59):02d}.{c.r(0, 999999):06d}'


@fmt('python_asctime', n=320, start=D(2026, 12, 12, 22, 0, 0), days=3.0,
     title="Python logging with format '%(asctime)s - %(name)s - %(levelname)s - %(message)s'",
     source='https://docs.python.org/3/howto/logging-cookbook.html (the commonly used format string) and https://docs.python.org/3/library/logging.html#logrecord-attributes',
     header='`yyyy-mm-dd HH:MM:SS,mmm - logger.name - LEVEL - `',
     content='Everything after the `LEVEL - ` separator.')
def f_python_asctime(c):
    JOB = 'sync_contacts (trigger: interval[0:05:00], next run at: «$nr=nextrun»)'
    JOBu = 'sync_contacts (trigger: interval[0:05:00], next run at: «$nr»)'
    items = [
        T(16, 'Fetched «i:0-500» events from page «i:1-40» of «i:40-60»', lvl='INFO', lg='crmsync.sources.events'),
        T(4, 'Rate limited by upstream, sleeping for «i:1-60»s', lvl='WARNING', lg='crmsync.http'),
        T(12, 'Upserted «i:0-5000» contacts into CRM (created=«i:0-500», updated=«i:0-4500»)', lvl='INFO', lg='crmsync.sinks.crm'),
        T(5, 'Webhook delivery to https://hooks.«domain»/crm/«hex:12» failed with status «pick:500|502|503|404», will retry in «pick:30|60|120|300»s', lvl='WARNING', lg='crmsync.webhooks'),
        T(10, 'Webhook delivered to https://hooks.«domain»/crm/«hex:12» in «i:30-4000»ms', lvl='INFO', lg='crmsync.webhooks'),
        T(5, 'Token for tenant «uuid» expires in «i:1-10» minutes, refreshing', lvl='INFO', lg='crmsync.auth'),
        T(3, 'Token refresh failed for tenant «uuid»: invalid_grant', lvl='ERROR', lg='crmsync.auth'),
        S(12, T(0, 'Running job "' + JOB + '" (scheduled at «ts:%Y-%m-%d %H:%M:%S.%6+00:00»)', lvl='INFO', lg='apscheduler.executors.default'),
              T(0, 'Sync cycle «i:1-9000» complete: «i:0-500» created, «i:0-4000» updated, «i:0-90» deleted in «f:0.5-280:2»s', lvl='INFO', lg='crmsync.runner'),
              T(0, 'Job "' + JOBu + '" executed successfully', lvl='INFO', lg='apscheduler.executors.default'), gap=(0.2, 240)),
        T(3, 'Run time of job "' + JOB + '" was missed by «missed»', lvl='WARNING', lg='apscheduler.executors.default'),
        S(1, T(0, 'Adding job tentatively -- it will be properly scheduled when the scheduler starts', lvl='INFO', lg='apscheduler.scheduler'),
             T(0, 'Added job "sync_contacts" to job store "default"', lvl='INFO', lg='apscheduler.scheduler'),
             T(0, 'Scheduler started', lvl='INFO', lg='apscheduler.scheduler'), first=True, min=2),
        T(3, 'Database connection lost (server closed the connection unexpectedly), reconnecting in «i:1-30»s', lvl='ERROR', lg='crmsync.db'),
    ]
    def line(c, t, msg, m):
        return f'{tfmt(t, "%Y-%m-%d %H:%M:%S,%3")} - {m["lg"]} - {m["lvl"]} - {msg}'
    return dict(items=items, line=line, extract=rx(r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} - \S+ - (?:DEBUG|INFO|WARNING|ERROR|CRITICAL) - (?P<c>.*)$'))


# ---------------------------------------------------------------------------------------------- Node
@fmt('pino', n=360, start=D(2026, 12, 5, 11, 0, 0), days=2.5,
     title='Node.js pino / pino-http JSON (Fastify)',
     source='https://getpino.io/#/docs/api?id=logger and https://github.com/pinojs/pino-http',
     header='JSON object: `level` (number), `time` (epoch milliseconds), `pid`, `hostname`, bindings and fields, `msg` last',
     content='The value of `msg`.')
def f_pino(c):
    items = [
        T(26, 'incoming request', lvl=30, kind='in'),
        T(26, 'request completed', lvl=30, kind='out'),
        T(4, 'request errored', lvl=50, kind='err'),
        T(4, 'Route GET:«pick:/wp-admin/setup-config.php|/.git/HEAD|/actuator/env|/admin|/phpinfo.php» not found', lvl=30),
        T(6, 'user «i:1000-999999» logged in via «pick:password|google|github»', lvl=30),
        T(5, 'session «hex:32» expired', lvl=30),
        T(6, 'order «uuid» placed (total «f:2-900:2»)', lvl=30),
        T(6, 'cache miss for key product:«i:1000-99999»', lvl=20),
        T(4, 'slow query detected («i:500-9000»ms)', lvl=40),
        T(4, 'job «pick:send-digest|rebuild-sitemap|purge-carts» finished in «i:10-90000»ms', lvl=30),
        S(1, T(0, 'connected to redis at redis://«ip»:6379', lvl=30),
             T(0, 'Server listening at http://«pick:0.0.0.0|127.0.0.1»:3000', lvl=30), first=True, min=2),
        S(1, T(0, 'SIGTERM received, closing server', lvl=30), T(0, 'server closed', lvl=30), min=2),
    ]
    def line(c, t, msg, m):
        if 'host' not in c.st or msg.startswith('connected to redis'):
            c.st['host'] = f'api-{GEN["hex"](c, "9")}-{GEN["an"](c, "5")}'
            c.st['pid'] = c.r(1, 60)
        d = {'level': m['lvl'], 'time': int(epoch(t) * 1000), 'pid': c.st['pid'], 'hostname': c.st['host']}
        k = m.get('kind')
        if k:
            d['reqId'] = f'req-{c.r(1, 99999):x}'
            d['req'] = {'method': c.ch(['GET', 'GET', 'POST']), 'url': c.ch(['/api/products/%d' % c.r(1, 9999), '/api/cart', '/health']),
                        'hostname': 'shop.example.com', 'remoteAddress': GEN['ip'](c), 'remotePort': int(GEN['port'](c))}
            if k != 'in':
                d['res'] = {'statusCode': 200 if k == 'out' else 500}
                d['responseTime'] = round(c.rng.uniform(0.3, 900), 6)
            if k == 'err':
                d['err'] = {'type': 'Error', 'message': 'connect ECONNREFUSED %s:5432' % GEN['ip'](c), 'stack': 'Error: connect ECONNREFUSED\n    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1610:16)'}
        d['msg'] = msg
        return json.dumps(d, separators=(',', ':'))
    return dict(items=items, line=line, extract=jx('msg'))


@fmt('bunyan', n=300, start=D(2026, 12, 9, 15, 30, 0), days=3.0,
     title='Node.js bunyan JSON (restify service with audit logger)',
     source='https://github.com/trentm/node-bunyan#core-fields',
     header='JSON object: `name`, `hostname`, `pid`, `level`, fields, `msg`, `time` (ISO 8601), `v`',
     content='The value of `msg`.')
def f_bunyan(c):
    items = [
        T(30, 'handled: «pick:200|200|200|201|204|400|404|409|500»', lvl=30, name='audit', audit=True),
        T(10, 'cart «uuid» checked out by user «i:1000-999999»', lvl=30),
        T(8, 'charge succeeded', lvl=30, kind='charge'),
        T(5, 'charge failed: «pick:card_declined|insufficient_funds|expired_card|processing_error»', lvl=40, kind='charge'),
        T(3, 'refund issued', lvl=30, kind='charge'),
        T(4, 'payment provider timeout after «i:5000-30000»ms', lvl=50),
        T(6, 'inventory reserved for «i:1-20» items', lvl=30),
        T(3, 'uncaught exception', lvl=60),
        T(4, 'shipping quote for «i:1-20» items: «f:3-90:2» EUR via «pick:dhl|ups|dpd»', lvl=30),
        S(1, T(0, 'checkout listening at http://[::]:8080', lvl=30), first=True, min=3),
    ]
    def line(c, t, msg, m):
        if 'pid' not in c.st or 'listening at' in msg:
            c.st['pid'] = c.r(20, 30000)
            c.st['host'] = c.ch(['checkout-1', 'checkout-2', 'chk-prod-3'])
        d = {'name': m.get('name', 'checkout'), 'hostname': c.st['host'], 'pid': c.st['pid']}
        if m.get('audit'):
            d['audit'] = True
        d['level'] = m['lvl']
        if m.get('audit'):
            d['remoteAddress'] = GEN['ip'](c)
            d['remotePort'] = int(GEN['port'](c))
            d['req_id'] = GEN['uuid'](c)
            d['req'] = {'query': '', 'method': c.ch(['GET', 'POST']), 'url': c.ch(['/cart/%s' % GEN['uuid'](c), '/checkout', '/health']), 'httpVersion': '1.1'}
            d['res'] = {'statusCode': int(msg.split()[-1])}
            d['latency'] = c.r(1, 900)
            d['_audit'] = True
        if m.get('kind') == 'charge':
            d['orderId'] = GEN['uuid'](c)
            d['amount'] = c.r(100, 90000)
            d['provider'] = c.ch(['stripe', 'adyen'])
        d['msg'] = msg
        d['time'] = tfmt(t, '%Y-%m-%dT%H:%M:%S.%3Z')
        d['v'] = 0
        return json.dumps(d, separators=(',', ':'))
    return dict(items=items, line=line, extract=jx('msg'))


# ---------------------------------------------------------------------------------------------- Rails
@fmt('rails', n=380, start=D(2026, 12, 7, 8, 0, 0), days=3.0,
     title='Ruby on Rails 7.1 production.log (Logger::Formatter, TaggedLogging with :request_id)',
     source='https://guides.rubyonrails.org/debugging_rails_applications.html#the-logger and https://ruby-doc.org/3.3/stdlibs/logger/Logger/Formatter.html',
     header='`S, [yyyy-mm-ddTHH:MM:SS.ffffff #pid] LEVEL -- progname: ` (progname empty in Rails, hence `-- : `)',
     content='Everything after `-- : `, so the `[request-id]` tag (and `[ActiveJob] [Job] [jid]` tags) are part of Content.')
def f_rails(c):
    R = '[«$r=uuid»] '
    Rr = '[«$r»] '
    IP = '«$ip=pip»'
    AT = ' at «ts:%Y-%m-%d %H:%M:%S +0000»'
    items = [
        S(24, T(0, R + 'Started GET "/products/«$id=i:1-9999»" for ' + IP + AT),
              T(0, Rr + 'Processing by ProductsController#show as HTML'),
              T(0, Rr + '  Parameters: {"id"=>"«$id»"}'),
              T(0, Rr + '  Rendered products/show.html.erb within layouts/application (Duration: «f:1-90:1»ms | GC: «f:0-4:1»ms)'),
              T(0, Rr + '  Rendered layout layouts/application.html.erb (Duration: «f:5-120:1»ms | GC: «f:0-4:1»ms)'),
              T(0, Rr + 'Completed 200 OK in «i:5-400»ms (Views: «f:2-120:1»ms | ActiveRecord: «f:0.3-40:1»ms («i:1-20» queries, «i:0-5» cached) | GC: «f:0-9:1»ms)'), gap=(0.001, 0.15)),
        S(4, T(0, R + 'Started GET "/products/«$id=i:10000-99999»" for ' + IP + AT),
             T(0, Rr + 'Processing by ProductsController#show as HTML'),
             T(0, Rr + '  Parameters: {"id"=>"«$id»"}'),
             T(0, Rr + 'Completed 404 Not Found in «i:2-40»ms (ActiveRecord: «f:0.2-9:1»ms («i:1-3» queries, «pick:0» cached) | GC: «f:0-2:1»ms)'),
             T(0, Rr + '  ', lvl='F'),
             T(0, Rr + "ActiveRecord::RecordNotFound (Couldn't find Product with 'id'=«$id»):", lvl='F'),
             T(0, Rr + '  ', lvl='F'),
             T(0, Rr + "app/controllers/products_controller.rb:«pick:12|48»:in 'set_product'", lvl='F'), gap=(0.001, 0.05)),
        S(8, T(0, R + 'Started POST "/cart/items" for ' + IP + AT),
             T(0, Rr + 'Processing by CartItemsController#create as TURBO_STREAM'),
             T(0, Rr + '  Parameters: {"authenticity_token"=>"[FILTERED]", "cart_item"=>{"product_id"=>"«i:1-9999»", "quantity"=>"«i:1-5»"}}'),
             T(0, Rr + 'Redirected to https://shop.example.com/cart'),
             T(0, Rr + 'Completed 302 Found in «i:8-200»ms (ActiveRecord: «f:1-40:1»ms («i:2-12» queries, «pick:0» cached) | GC: «f:0-4:1»ms)'), gap=(0.001, 0.1)),
        S(3, T(0, R + 'Started POST "/cart/items" for ' + IP + AT),
             T(0, Rr + 'Processing by CartItemsController#create as TURBO_STREAM'),
             T(0, Rr + '  Parameters: {"authenticity_token"=>"[FILTERED]", "cart_item"=>{"product_id"=>"«i:1-9999»", "quantity"=>"«i:1-5»"}}'),
             T(0, Rr + "Can't verify CSRF token authenticity.", lvl='W'),
             T(0, Rr + 'Completed 422 Unprocessable Entity in «i:1-9»ms (ActiveRecord: «pick:0.0»ms («pick:0» queries, «pick:0» cached) | GC: «pick:0.0»ms)')),
        S(10, T(0, R + 'Started GET "/api/v1/orders/«$id=i:100000-999999».json" for ' + IP + AT),
              T(0, Rr + 'Processing by Api::V1::OrdersController#show as JSON'),
              T(0, Rr + '  Parameters: {"id"=>"«$id»"}'),
              T(0, Rr + 'Completed 200 OK in «i:5-400»ms (Views: «f:0.1-30:1»ms | ActiveRecord: «f:0.3-40:1»ms («i:1-20» queries, «i:0-5» cached) | GC: «f:0-9:1»ms)'), gap=(0.001, 0.15)),
        S(10, T(0, R + 'Started GET "/up" for «ip»' + AT),
              T(0, Rr + 'Processing by Rails::HealthController#show as HTML'),
              T(0, Rr + 'Completed 200 OK in «i:0-3»ms (Views: «f:0.1-2:1»ms | ActiveRecord: «pick:0.0»ms («pick:0» queries, «pick:0» cached) | GC: «pick:0.0»ms)'), gap=(0.0005, 0.01)),
        S(6, T(0, '[ActiveJob] [OrderConfirmationJob] [«$j=uuid»] Performing OrderConfirmationJob (Job ID: «$j») from Sidekiq(mailers) enqueued at «tsago:%Y-%m-%dT%H:%M:%S.%6Z» with arguments: «i:100000-999999»'),
             T(0, '[ActiveJob] [OrderConfirmationJob] [«$j»] Performed OrderConfirmationJob (Job ID: «$j») from Sidekiq(mailers) in «f:20-3000:2»ms'), gap=(0.02, 3)),
    ]
    def line(c, t, msg, m):
        if 'pids' not in c.st:
            c.st['pids'] = [c.r(100, 40000) for _ in range(4)]
        pid = c.vars.setdefault('_pid', c.ch(c.st['pids']))
        sev = m.get('lvl', 'I')
        name = {'I': 'INFO', 'W': 'WARN', 'F': 'FATAL', 'E': 'ERROR'}[sev]
        return f'{sev}, [{tfmt(t, "%Y-%m-%dT%H:%M:%S.%6")} #{pid}] {name:>5} -- : {msg}'
    return dict(items=items, line=line, extract=rx(r'^[DIWEFA], \[\S+ #\d+\] +[A-Z]+ -- [^:]*: (?P<c>.*)$'))


# ---------------------------------------------------------------------------------------------- systemd, containers, cloud
UNITS = [('apt-daily.service', 'Daily apt download activities'), ('apt-daily-upgrade.service', 'Daily apt upgrade and clean activities'),
         ('logrotate.service', 'Rotate log files'), ('man-db.service', 'Daily man-db regeneration'),
         ('fstrim.service', 'Discard unused blocks on filesystems from /etc/fstab'), ('sysstat-collect.service', 'system activity accounting tool'),
         ('certbot.service', 'Certbot'), ('systemd-tmpfiles-clean.service', 'Cleanup of Temporary Directories')]


@gen('unit')
def _g_unit(c, arg=None):
    u, d = c.ch(UNITS)
    c.vars['unitdesc'] = d
    return u


@gen('scope')
def _g_scope(c, arg=None):
    return f'session-{c.vars["s"]}.scope'


@gen('sum')  # sum of bound vars, optional width: «sum:a,b» / «sum:a,b:5»
def _g_sum(c, arg):
    keys, _, w = arg.partition(':')
    v = str(sum(int(c.vars[k].strip()) for k in keys.split(',')))
    return v.rjust(int(w)) if w else v


@gen('aacomm')
def _g_aacomm(c, arg=None):
    return {'snap.lxd.daemon': 'lxd'}.get(c.vars['pr'], c.vars['pr'])


@gen('mac')
def _g_mac(c, arg=None):
    return ':'.join(['02', '42'] + ['%02x' % c.r(0, 255) for _ in range(10)] + ['08', '00'])


@fmt('journald', n=360, start=D(2026, 12, 14, 0, 3, 0), days=4.0,
     title='systemd journal, `journalctl -o short-iso` output',
     source='https://www.freedesktop.org/software/systemd/man/latest/journalctl.html#short-iso',
     header='`yyyy-mm-ddTHH:MM:SS+00:00 host identifier[pid]: ` (the kernel has no `[pid]`)',
     content='Everything after `identifier[pid]: ` (or `kernel: `).')
def f_journald(c):
    items = [
        S(10, T(0, 'Accepted publickey for «$u=user» from «$ip=pip» port «$p=port» ssh2: ED25519 SHA256:«b64:43»', ident='sshd', sess=True),
              T(0, 'pam_unix(sshd:session): session opened for user «$u»(uid=«$uid=i:1000-1040») by (uid=0)', ident='sshd', sess=True),
              T(0, 'New session «$s=i:1-9000» of user «$u».', ident='systemd-logind'),
              T(0, 'Started session-«$s».scope - Session «$s» of User «$u».', ident='systemd', pid1=True),
              T(0, 'Received disconnect from «$ip» port «$p»:11: disconnected by user', ident='sshd', sess=True),
              T(0, 'Disconnected from user «$u» «$ip» port «$p»', ident='sshd', sess=True),
              T(0, 'pam_unix(sshd:session): session closed for user «$u»', ident='sshd', sess=True),
              T(0, '«scope»: Deactivated successfully.', ident='systemd', pid1=True),
              T(0, 'Session «$s» logged out. Waiting for processes to exit.', ident='systemd-logind'),
              T(0, 'Removed session «$s».', ident='systemd-logind'), gap=(0.001, 600)),
        S(14, T(0, 'Invalid user «$u=bad_user» from «$ip=pip» port «$p=port»', ident='sshd', sess=True),
              T(0, 'Connection closed by invalid user «$u» «$ip» port «$p» [preauth]', ident='sshd', sess=True), gap=(0.2, 3)),
        T(6, 'Connection closed by authenticating user root «pip» port «port» [preauth]', ident='sshd', sess=True),
        S(10, T(0, 'Starting «$n=unit» - «$unitdesc»...', ident='systemd', pid1=True),
              T(0, '«$n»: Deactivated successfully.', ident='systemd', pid1=True),
              T(0, 'Finished «$n» - «$unitdesc».', ident='systemd', pid1=True),
              T(0, '«$n»: Consumed «f:0.01-40:3»s CPU time, «f:1-300:1»M memory peak, 0B memory swap peak.', ident='systemd', pid1=True), gap=(0.01, 30)),
        S(8, T(0, 'pam_unix(cron:session): session opened for user root(uid=0) by root(uid=0)', ident='CRON', sess=True),
             T(0, '(root) CMD («pick:command -v debian-sa1 > /dev/null && debian-sa1 1 1|   cd / && run-parts --report /etc/cron.hourly|/usr/local/bin/backup.sh >/dev/null 2>&1»)', ident='CRON', sess=True),
             T(0, 'pam_unix(cron:session): session closed for user root', ident='CRON', sess=True), gap=(0.001, 2)),
        T(12, '[UFW BLOCK] IN=eth0 OUT= MAC=«mac» SRC=«pip» DST=10.0.3.17 LEN=«pick:40|44|52|60» TOS=0x00 PREC=0x00 TTL=«i:40-250» ID=«i:1-65535» PROTO=TCP SPT=«port» DPT=«pick:22|23|445|3389|5900|8080|6379» WINDOW=«i:1024-65535» RES=0x00 SYN URGP=0', ident='kernel'),
        T(2, 'Out of memory: Killed process «i:1000-90000» («pick:java|node|python3|postgres») total-vm:«i:1000000-9000000»kB, anon-rss:«i:500000-4000000»kB, file-rss:«i:0-9000»kB, shmem-rss:«i:0-900»kB, UID:«i:0-1040» pgtables:«i:1000-9000»kB oom_score_adj:0', ident='kernel'),
        T(3, 'audit: type=1400 audit(«epoch».«i:100-999»:«i:100-9999»): apparmor="DENIED" operation="open" class="file" profile="«$pr=pick:rsyslogd|cups-browsed|snap.lxd.daemon»" name="/proc/«i:100-9000»/cgroup" pid=«i:100-90000» comm="«aacomm»" requested_mask="r" denied_mask="r" fsuid=«i:0-1000» ouid=«i:0-1000»', ident='kernel'),
    ]
    def line(c, t, msg, m):
        ident = m['ident']
        if ident == 'kernel':
            return f'{tfmt(t, "%Y-%m-%dT%H:%M:%S+00:00")} web-03 kernel: {msg}'
        if m.get('pid1'):
            pid = 1
        elif m.get('sess'):
            pid = c.vars.setdefault('_pid_' + ident, c.r(1000, 400000))
        else:
            pid = c.st.setdefault(ident, c.r(400, 1200))
        return f'{tfmt(t, "%Y-%m-%dT%H:%M:%S+00:00")} web-03 {ident}[{pid}]: {msg}'
    return dict(items=items, line=line, extract=rx(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d \S+ (?:kernel|[^\s\[]+\[\d+\]): (?P<c>.*)$'))


@fmt('cri', n=340, start=D(2026, 12, 4, 10, 15, 30), days=2.0,
     title='Kubernetes CRI container log file (containerd/CRI-O, /var/log/pods/...)',
     source='https://github.com/kubernetes/design-proposals-archive/blob/main/node/kubelet-cri-logging.md',
     header='`RFC3339Nano-timestamp stream tag ` (stream = stdout|stderr, tag = F full line / P partial)',
     content='Everything after the `F ` tag: the container\'s own output line (here a Go service using chi\'s request logger and the standard `log` package, whose own `yyyy/mm/dd HH:MM:SS` prefix is therefore part of Content).')
def f_cri(c):
    items = [
        T(30, '"GET http://«pick:catalog|catalog.prod.svc»:8080/v1/items/«i:1-99999» HTTP/1.1" from «ip»:«port» - «pick:200|200|200|404» «i:40-9000»B in «gdur»'),
        T(12, '"GET http://«pick:catalog|catalog.prod.svc»:8080/v1/items?category=«category»&limit=«pick:20|50» HTTP/1.1" from «ip»:«port» - «pick:200|200|500» «i:40-90000»B in «gdur»'),
        T(8, '"POST http://«pick:catalog|catalog.prod.svc»:8080/v1/items/«i:1-99999»/reviews HTTP/1.1" from «ip»:«port» - «pick:201|201|400|422» «i:40-900»B in «gdur»'),
        T(10, '"GET http://«ip»:8080/healthz HTTP/1.1" from «ip»:«port» - 200 2B in «gdur»'),
        T(6, 'indexer: reindexed «i:1-5000» items in «gdur»'),
        T(4, 'indexer: skipped item «i:1-99999»: missing price'),
        T(6, '«ts:%Y/%m/%d %H:%M:%S» http: TLS handshake error from «ip»:«port»: EOF', stream='stderr'),
        T(3, '«ts:%Y/%m/%d %H:%M:%S» http: superfluous response.WriteHeader call from github.com/go-chi/chi/v5/middleware.(*basicWriter).WriteHeader (wrap_writer.go:98)', stream='stderr'),
        T(4, '«ts:%Y/%m/%d %H:%M:%S» ERROR: publish item.updated: nats: timeout', stream='stderr'),
        T(3, '«ts:%Y/%m/%d %H:%M:%S» WARN: search backend slow: «i:1000-9000»ms for query «pick:shoes|jacket|kettle|lego»', stream='stderr'),
        S(1, T(0, '«ts:%Y/%m/%d %H:%M:%S» catalog v3.4.«i:0-9» (commit «hex:7») starting', stream='stderr'),
             T(0, '«ts:%Y/%m/%d %H:%M:%S» connected to postgres «ip»:5432/catalog', stream='stderr'),
             T(0, '«ts:%Y/%m/%d %H:%M:%S» connected to nats://nats.prod.svc:4222', stream='stderr'),
             T(0, 'Listening on :8080'), first=True, min=2),
        S(1, T(0, '«ts:%Y/%m/%d %H:%M:%S» received terminated, shutting down (grace 30s)', stream='stderr'),
             T(0, '«ts:%Y/%m/%d %H:%M:%S» http server stopped', stream='stderr'), min=2),
    ]
    def line(c, t, msg, m):
        ns = tfmt(t, '%Y-%m-%dT%H:%M:%S.%6') + f'{c.r(0, 999):03d}Z'
        return f'{ns} {m.get("stream", "stdout")} F {msg}'
    return dict(items=items, line=line, extract=rx(r'^\S+ (?:stdout|stderr) [FP] (?P<c>.*)$'))


@fmt('gcp_json', n=300, start=D(2026, 12, 15, 6, 0, 0), days=3.0,
     title='Google Cloud structured JSON log line (Cloud Run / GKE stdout, google-cloud-logging StructuredLogHandler)',
     source='https://cloud.google.com/logging/docs/structured-logging#special-payload-fields',
     header='JSON object with `message`, `severity`, `logging.googleapis.com/*` fields and `timestamp`',
     content='The value of `message`.')
def f_gcp(c):
    items = [
        T(20, 'Received Pub/Sub message «i:10000000000000-99999999999999» from subscription projects/acme-prod/subscriptions/«pick:orders-events-sub|invoices-sub»', sev='INFO', fn='handle_push'),
        T(12, 'Exported «i:1-90000» rows to BigQuery table acme-prod.analytics.«pick:events|orders_daily|sessions»', sev='INFO', fn='export_batch'),
        T(8, 'Uploaded gs://acme-exports/«ts:%Y/%m/%d»/report-«hex:8».csv («i:1000-90000000» bytes)', sev='INFO', fn='upload_report'),
        T(6, 'Firestore transaction aborted, retrying («i:1-4»/5)', sev='WARNING', fn='reserve_stock'),
        T(8, 'Request to https://api.partner.example.com/v1/rates took «i:40-9000»ms', sev='INFO', fn='fetch_rates'),
        T(5, 'Deadline exceeded while calling «pick:pricing|inventory».internal, falling back to cached value', sev='WARNING', fn='get_price'),
        T(4, "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute per user' of service 'sheets.googleapis.com' for consumer 'project_number:«i:100000000000-999999999999»'.", sev='ERROR', fn='sync_sheet'),
        T(4, 'Memory usage at «i:60-98»% of limit', sev='WARNING', fn='monitor'),
        T(5, 'Signed URL generated for gs://acme-exports/«ts:%Y/%m/%d»/report-«hex:8».csv (expires in 900s)', sev='INFO', fn='sign_url'),
        T(3, 'Unhandled exception while processing message «i:10000000000000-99999999999999»: KeyError(\'customer_id\')', sev='ERROR', fn='handle_push'),
    ]
    def line(c, t, msg, m):
        d = {'message': msg, 'severity': m['sev'],
             'logging.googleapis.com/labels': {'python_logger': 'app'},
             'logging.googleapis.com/trace': f'projects/acme-prod/traces/{GEN["hex"](c, "32")}',
             'logging.googleapis.com/spanId': GEN['hex'](c, '16'),
             'logging.googleapis.com/trace_sampled': c.rng.random() < 0.1,
             'logging.googleapis.com/sourceLocation': {'line': c.r(20, 400), 'file': '/app/main.py', 'function': m['fn']},
             'httpRequest': {}, 'timestamp': tfmt(t, '%Y-%m-%dT%H:%M:%S.%6Z')}
        return json.dumps(d)
    return dict(items=items, line=line, extract=jx('message'))


# ---------------------------------------------------------------------------------------------- CI
@gen('commitmsg')
def _g_commitmsg(c, arg=None):
    return c.ch(['Fix flaky checkout test', 'Bump axios from 1.7.7 to 1.7.9', 'Add product reviews endpoint',
                 'Refactor cart reducer', 'Merge pull request #%d from acme/feature/search' % c.r(100, 2000),
                 'Update dependencies', 'Handle empty wishlist', 'ci: cache node_modules', 'Revert "Add dark mode"'])


@fmt('github_actions', n=330, start=D(2026, 12, 7, 9, 0, 0), days=5.0,
     title='GitHub Actions job log as downloaded (every line timestamped)',
     source='https://docs.github.com/en/actions/monitoring-and-troubleshooting-workflows/monitoring-workflows/using-workflow-run-logs',
     header='`yyyy-mm-ddTHH:MM:SS.fffffffZ ` (7 fractional digits)',
     content='Everything after the timestamp and its space (`##[group]`/`##[error]` markers included).')
def f_gha(c):
    W = '/home/runner/work/storefront/storefront'
    head = [T(0, "Current runner version: '2.321.0'"),
            T(0, "Runner name: 'GitHub Actions «i:1-999»'"),
            T(0, "Machine name: 'fv-az«i:100-999»-«i:100-999»'"),
            T(0, 'Secret source: Actions'),
            T(0, 'Prepare workflow directory'),
            T(0, 'Prepare all required actions'),
            T(0, 'Getting action download info'),
            T(0, "Download action repository '«pick:actions/checkout@v4»' (SHA:«pick:11bd71901bbe5b1630ceea73d27597364c9af683»)"),
            T(0, "Download action repository '«pick:actions/setup-node@v4»' (SHA:«pick:39370e3970a6d050c480ffad4ff0ed4d3fdee5af»)"),
            T(0, 'Complete job name: build (ubuntu-latest, «pick:18.x|20.x|22.x»)'),
            T(0, '##[group]Run «pick:actions/checkout@v4»'),
            T(0, '##[endgroup]'),
            T(0, 'Syncing repository: acme/storefront'),
            T(0, "Temporarily overriding HOME='/home/runner/work/_temp/«uuid»' before making global git config changes"),
            T(0, 'Adding repository directory to the temporary git global config as a safe directory'),
            T(0, f'[command]/usr/bin/git config --global --add safe.directory {W}'),
            T(0, f"Deleting the contents of '{W}'"),
            T(0, '[command]/usr/bin/git -c protocol.version=2 fetch --no-tags --prune --no-recurse-submodules --depth=1 origin +«hex:40»:refs/remotes/«gharef»'),
            T(0, 'HEAD is now at «hex:7» «commitmsg»'),
            T(0, '##[group]Run «pick:npm ci»'),
            T(0, '##[endgroup]'),
            T(0, 'npm warn deprecated inflight@1.0.6: This module is not supported, and leaks memory. Do not use it. Check out lru-cache if you want a good and tested way to coalesce async requests by a key value, which is much more comprehensive and powerful.'),
            T(0, 'added «i:800-1400» packages, and audited «i:800-1400» packages in «i:8-60»s'),
            T(0, 'found 0 vulnerabilities'),
            T(0, '##[group]Run «pick:npm test -- --ci»'),
            T(0, '##[endgroup]')]
    tail_ok = [T(0, 'Tests:       «$n=i:100-400» passed, «$n» total'),
               T(0, 'Time:        «f:8-90:3» s'),
               T(0, 'Post job cleanup.'),
               T(0, 'Cleaning up orphan processes')]
    tail_fail = [T(0, 'Tests:       «$f=i:1-4» failed, «$p=i:100-400» passed, «sum:f,p» total'),
                 T(0, 'Time:        «f:8-90:3» s'),
                 T(0, '##[error]Process completed with exit code 1.'),
                 T(0, 'Post job cleanup.'),
                 T(0, 'Cleaning up orphan processes')]
    items = [S(4, *head, *tail_ok, gap=(0.0001, 6)), S(1, *head, *tail_fail, gap=(0.0001, 6))]
    def line(c, t, msg, m):
        return f'{tfmt(t, "%Y-%m-%dT%H:%M:%S.%6")}{c.r(0, 9)}Z {msg}'
    return dict(items=items, line=line, extract=rx(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z (?P<c>.*)$'))


@gen('gharef')
def _g_gharef(c, arg=None):
    return c.ch(['origin/main', 'origin/main', 'pull/%d/merge' % c.r(100, 2000)])


@gen('jjob')
def _g_jjob(c, arg=None):
    j = c.ch(['storefront_main', 'storefront_PR-%d' % c.r(100, 999), 'billing-api_main'])
    c.vars['_br'] = 'main' if j.endswith('_main') else 'PR-' + j.rsplit('-', 1)[1]
    return j


@gen('jbranch')
def _g_jbranch(c, arg=None):
    return c.vars.get('_br', 'main')


@gen('pad')  # right-aligned number: pad:width:lo-hi
def _g_pad(c, arg):
    w, rng_ = arg.split(':')
    return GEN['i'](c, rng_).rjust(int(w))


@fmt('jenkins', n=330, start=D(2026, 12, 2, 7, 0, 0), days=6.0, eol='\r\n',
     title='Jenkins Pipeline console output with the Timestamper plugin, Windows agent (CRLF line endings)',
     source='https://plugins.jenkins.io/timestamper/ and https://www.jenkins.io/doc/book/pipeline/',
     header='`[yyyy-mm-ddTHH:MM:SS.mmmZ] `',
     content='Everything after the bracketed timestamp and its space.')
def f_jenkins(c):
    WS = 'C:\\Jenkins\\workspace\\«$j=jjob»'
    WSU = 'C:\\Jenkins\\workspace\\«$j»'
    def run(start, result, tests):
        return [start,
                T(0, 'Obtained Jenkinsfile from git https://github.com/acme/«pick:storefront|billing-api».git'),
                T(0, '[Pipeline] Start of Pipeline'),
                T(0, '[Pipeline] node'),
                T(0, 'Running on «pick:win-agent-01|win-agent-02|win-agent-07» in ' + WS),
                T(0, '[Pipeline] {'),
                T(0, '[Pipeline] stage'),
                T(0, '[Pipeline] { («pick:Declarative: Checkout SCM»)'),
                T(0, '[Pipeline] checkout'),
                T(0, 'Fetching changes from the remote Git repository'),
                T(0, 'Checking out Revision «hex:40» (refs/remotes/origin/«jbranch»)'),
                T(0, 'Commit message: "«commitmsg»"'),
                T(0, '[Pipeline] }'),
                T(0, '[Pipeline] // stage'),
                T(0, '[Pipeline] stage'),
                T(0, '[Pipeline] { («pick:Build»)'),
                T(0, '[Pipeline] bat'),
                T(0, WSU + '>dotnet build --configuration Release'),
                T(0, 'Build succeeded.'),
                T(0, '[Pipeline] }'),
                T(0, '[Pipeline] // stage'),
                T(0, '[Pipeline] stage'),
                T(0, '[Pipeline] { («pick:Test»)'),
                T(0, '[Pipeline] bat'),
                T(0, WSU + '>dotnet test --no-build --logger trx'),
                tests,
                T(0, '[Pipeline] junit'),
                T(0, 'Recording test results'),
                T(0, '[Pipeline] }'),
                T(0, '[Pipeline] // stage'),
                T(0, '[Pipeline] }'),
                T(0, '[Pipeline] // node'),
                T(0, '[Pipeline] End of Pipeline')] + result
    ok = T(0, 'Passed!  - Failed: «$f=pad:5:0-0», Passed: «$p=pad:5:40-900», Skipped: «$k=pad:5:0-9», Total: «sum:f,p,k:5», Duration: «i:2-90» s - Acme.Tests.dll (net8.0)')
    bad = T(0, 'Failed!  - Failed: «$f=pad:5:1-9», Passed: «$p=pad:5:40-900», Skipped: «$k=pad:5:0-9», Total: «sum:f,p,k:5», Duration: «i:2-90» s - Acme.Tests.dll (net8.0)')
    fin_ok = [T(0, 'Finished: SUCCESS')]
    fin_bad = [T(0, 'ERROR: script returned exit code 1'), T(0, 'Finished: FAILURE')]
    items = [
        S(3, *run(T(0, 'Started by user «user»'), fin_ok, ok), gap=(0.005, 4)),
        S(2, *run(T(0, 'Started by timer'), fin_ok, ok), gap=(0.005, 4)),
        S(2, *run(T(0, 'Started by GitHub push by «user»'), fin_ok, ok), gap=(0.005, 4)),
        S(1, *run(T(0, 'Started by GitHub push by «user»'), fin_bad, bad), gap=(0.005, 4)),
    ]
    def line(c, t, msg, m):
        return f'[{tfmt(t, "%Y-%m-%dT%H:%M:%S.%3Z")}] {msg}'
    return dict(items=items, line=line, extract=rx(r'^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\] (?P<c>.*)$'))


# ---------------------------------------------------------------------------------------------- syslog family
def bsd_ts(t):
    return tfmt(t, '%b %e %H:%M:%S')


@fmt('syslog_cron', n=340, start=D(2026, 12, 3, 23, 17, 1), days=8.0,
     title='RFC 3164 (BSD) syslog, /var/log/syslog on Debian/Ubuntu: cron, anacron, rsyslogd, chronyd, dhclient',
     source='https://www.rfc-editor.org/rfc/rfc3164#section-4.1.2 and cron(8)',
     header='`Mmm dd HH:MM:SS host tag[pid]: ` (day space-padded, e.g. `Dec  4`)',
     content='Everything after `tag[pid]: ` (or `tag: ` for tags logged without a pid).')
def f_syslog(c):
    items = [
        S(30, T(0, 'pam_unix(cron:session): session opened for user «$u=pick:root|root|root|www-data|backup»(uid=«uid») by (uid=0)', tag='CRON'),
              T(0, '(«$u») CMD («cron_cmd»)', tag='CRON'),
              T(0, 'pam_unix(cron:session): session closed for user «$u»', tag='CRON'), gap=(0.0005, 90)),
        T(5, '(CRON) info (No MTA installed, discarding output)', tag='CRON'),
        S(2, T(0, '(CRON) INFO (pidfile fd = 3)', tag='cron', restart=True),
             T(0, '(CRON) INFO (Running @reboot jobs)', tag='cron')),
        S(3, T(0, 'Anacron 2.3 started on «ts:%Y-%m-%d»', tag='anacron'),
             T(0, 'Will run job `«$j=pick:cron.daily|cron.weekly»\' in «i:5-10» min.', tag='anacron'),
             T(0, 'Job `«$j»\' started', tag='anacron'),
             T(0, 'Job `«$j»\' terminated', tag='anacron'),
             T(0, 'Normal exit (1 job run)', tag='anacron'), gap=(1, 400)),
        T(3, '[origin software="rsyslogd" swVersion="8.2312.0" x-pid="«i:500-9000»" x-info="https://www.rsyslog.com"] rsyslogd was HUPed', tag='rsyslogd'),
        T(6, 'Selected source «ip» («pick:ntp.ubuntu.com|0.pool.ntp.org|1.pool.ntp.org|169.254.169.123»)', tag='chronyd'),
        T(4, 'Source «pip» replaced with «pip» («pick:2.ubuntu.pool.ntp.org|3.pool.ntp.org»)', tag='chronyd'),
        T(3, 'System clock wrong by «clockoff» seconds', tag='chronyd'),
        S(6, T(0, 'DHCPREQUEST for «$a=ip» on eth0 to «$g=ip» port 67', tag='dhclient'),
             T(0, 'DHCPACK of «$a» from «$g»', tag='dhclient'),
             T(0, 'bound to «$a» -- renewal in «i:1000-1800» seconds.', tag='dhclient'), gap=(0.001, 0.2)),
    ]
    def line(c, t, msg, m):
        host = c.vars.setdefault('_host', c.ch(['app-01', 'app-01', 'app-02', 'db-01']))
        tag = m['tag']
        pid = c.vars.setdefault('_pid', c.r(900, 3000000))
        if tag in ('anacron', 'cron', 'dhclient', 'chronyd', 'rsyslogd'):
            pid = c.st.setdefault((host, tag), c.r(300, 1500))
        return f'{bsd_ts(t)} {host} {tag}[{pid}]: {msg}'
    return dict(items=items, line=line, extract=rx(r'^\w{3} [ \d]\d \d\d:\d\d:\d\d \S+ [^\s\[:]+(?:\[\d+\])?: (?P<c>.*)$'))


@gen('clockoff')
def _g_clockoff(c, arg=None):
    return f'{c.rng.uniform(-3, 3):.6f}'


@gen('uid')
def _g_uid(c, arg=None):
    return {'root': '0', 'www-data': '33', 'backup': '34'}.get(c.vars.get('u'), '0')


@gen('cron_cmd')
def _g_cron_cmd(c, arg=None):
    u = c.vars.get('u', 'root')
    if u == 'www-data':
        return 'php /var/www/nextcloud/cron.php'
    if u == 'backup':
        return '/usr/local/bin/pg_backup.sh >> /var/log/pg_backup.log 2>&1'
    return c.ch(['command -v debian-sa1 > /dev/null && debian-sa1 1 1', '   cd / && run-parts --report /etc/cron.hourly',
                 '[ -x /usr/lib/php/sessionclean ] && if [ ! -d /run/systemd/system ]; then /usr/lib/php/sessionclean; fi',
                 '/usr/bin/certbot -q renew'])


JUNOS_SD = 'junos@2636.1.1.1.2.129'


@gen('flow')
def _g_flow(c, arg=None):
    src, dst = GEN['ip'](c), GEN['pip'](c)
    sp, dp = GEN['port'](c), c.ch(['443', '443', '80', '53', '123', '22'])
    app = {'443': 'junos-https', '80': 'junos-http', '53': 'junos-dns-udp', '123': 'junos-ntp', '22': 'junos-ssh'}[dp]
    proto = '17' if dp in ('53', '123') else '6'
    nsp = str(c.r(1024, 65535))
    c.vars.update(src=src, dst=dst, sp=sp, dp=dp, app=app, proto=proto, nsrc='203.0.113.%d' % c.r(2, 14), nsp=nsp,
                  sid=str(c.r(10000000, 99999999)), pol=c.ch(['trust-to-untrust', 'allow-web', 'allow-dns']))
    return f'{src}/{sp}->{dst}/{dp}'


@fmt('syslog_rfc5424', n=320, start=D(2026, 12, 6, 3, 30, 0), days=2.5,
     title='RFC 5424 syslog: Juniper SRX structured-data (RT_FLOW, UI_*) plus Linux hosts forwarding via rsyslog',
     source='https://www.rfc-editor.org/rfc/rfc5424#section-6 and https://www.juniper.net/documentation/us/en/software/junos/network-mgmt/topics/topic-map/system-logging-structured-data.html',
     header='`<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA ` (`-` for nil values)',
     content='The MSG part after STRUCTURED-DATA (the SD elements themselves are header).')
def f_5424(c):
    SESS = ('«flow» 0x0 «$app» «$nsrc»/«$nsp»->«$dst»/«$dp» 0x0 source rule «pick:snat-pool-1» N/A N/A «$proto» «$pol» trust untrust «$sid»')
    items = [
        T(30, 'session created ' + SESS + ' N/A(N/A) reth1.0 UNKNOWN UNKNOWN UNKNOWN N/A N/A -1', app='RT_FLOW', msgid='RT_FLOW_SESSION_CREATE', sd='flow'),
        T(14, 'session closed «!pick:TCP FIN|TCP FIN|TCP RST»: ' + SESS + ' «i:2-900»(«i:100-900000») «i:2-900»(«i:100-9000000») «i:1-1800» UNKNOWN UNKNOWN N/A(N/A) reth1.0 No N/A', app='RT_FLOW', msgid='RT_FLOW_SESSION_CLOSE', sd='flow'),
        T(8, 'session closed «!pick:idle Timeout|response received»: ' + SESS + ' «i:1-9»(«i:60-900») «i:0-9»(«i:0-2000») «i:1-60» UNKNOWN UNKNOWN N/A(N/A) reth1.0 No N/A', app='RT_FLOW', msgid='RT_FLOW_SESSION_CLOSE', sd='flow'),
        T(10, 'session denied «flow» 0x0 «$app» «$proto»(0) deny-all untrust trust UNKNOWN UNKNOWN N/A(N/A) reth0.0 UNKNOWN policy deny', app='RT_FLOW', msgid='RT_FLOW_SESSION_DENY', sd='deny'),
        S(2, T(0, "User '«$u=pick:admin|netops|jdoe»' login, class 'j-super-user' [«$pp=i:10000-99999»], ssh-connection '«$ip=ip» «port» 10.0.0.1 22', client-mode 'cli'", app='mgd', msgid='UI_LOGIN_EVENT', sd='ui'),
             T(0, "User '«$u»' requested 'commit' operation (comment: «pick:none|change-1234|ticket NET-88»)", app='mgd', msgid='UI_COMMIT', sd='ui'),
             T(0, 'commit complete', app='mgd', msgid='UI_COMMIT_COMPLETED', sd='ui'),
             T(0, "User '«$u»' exiting configuration mode", app='mgd', msgid='UI_DBASE_LOGOUT_EVENT', sd='ui'),
             T(0, "User '«$u»' logout", app='mgd', msgid='UI_LOGOUT_EVENT', sd='ui'), gap=(5, 300)),
        S(2, T(0, 'ifIndex «$x=i:500-560», ifAdminStatus up(1), ifOperStatus down(2), ifName «$n=pick:ge-0/0/1|ge-0/0/3|xe-1/0/0»', app='mib2d', msgid='SNMP_TRAP_LINK_DOWN', sd='snmp'),
             T(0, 'ifIndex «$x», ifAdminStatus up(1), ifOperStatus up(1), ifName «$n»', app='mib2d', msgid='SNMP_TRAP_LINK_UP', sd='snmp'), gap=(2, 600)),
        T(6, 'Accepted publickey for «user» from «ip» port «port» ssh2: RSA SHA256:«b64:43»', app='sshd', msgid='-', sd='-', linux=True),
        T(5, 'Failed password for invalid user «bad_user» from «pip» port «port» ssh2', app='sshd', msgid='-', sd='-', linux=True),
        T(5, '«$u=user» : TTY=pts/«i:0-6» ; PWD=/home/«$u» ; USER=root ; COMMAND=/usr/bin/systemctl «pick:restart|reload|status» «pick:nginx|app.service|postgresql»', app='sudo', msgid='-', sd='-', linux=True),
    ]
    def sd(c, kind):
        v = c.vars
        if kind == 'flow':
            return (f'[{JUNOS_SD} source-address="{v["src"]}" source-port="{v["sp"]}" destination-address="{v["dst"]}" '
                    f'destination-port="{v["dp"]}" service-name="{v["app"]}" protocol-id="{v["proto"]}" policy-name="{v["pol"]}" '
                    f'session-id-32="{v["sid"]}"]')
        if kind == 'deny':
            return f'[{JUNOS_SD} source-address="{v["src"]}" destination-address="{v["dst"]}" destination-port="{v["dp"]}" protocol-id="{v["proto"]}" policy-name="deny-all"]'
        if kind == 'ui':
            return f'[junos@2636.1.1.1.2.129 username="{v.get("u", "admin")}"]'
        if kind == 'snmp':
            return f'[junos@2636.1.1.1.2.129 snmp-interface-index="{v.get("x", "")}" interface-name="{v.get("n", "")}"]'
        return '-'
    def line(c, t, msg, m):
        if m.get('linux'):
            host, pri, pid = c.ch(['bastion-1', 'app-07', 'app-08']), c.ch([86, 38, 85]), str(c.r(1000, 400000))
            ts = tfmt(t, '%Y-%m-%dT%H:%M:%S.%6+00:00')
        else:
            host, pri = c.ch(['srx-edge-1', 'srx-edge-2']), {'RT_FLOW': 14, 'mgd': 189, 'mib2d': 28}[m['app']]
            pid = '-' if m['app'] == 'RT_FLOW' else str(c.st.setdefault(m['app'], c.r(1000, 90000)))
            ts = tfmt(t, '%Y-%m-%dT%H:%M:%S.%3Z')
        return f'<{pri}>1 {ts} {host} {m["app"]} {pid} {m["msgid"]} {sd(c, m["sd"])} {msg}'
    return dict(items=items, line=line,
                extract=rx(r'^<\d+>1 \S+ \S+ \S+ \S+ \S+ (?:-|(?:\[[^\]"]*(?:"(?:[^"\\]|\\.)*"[^\]"]*)*\])+) (?P<c>.*)$'))


@gen('qid')
def _g_qid(c, arg=None):
    return GEN['HEX'](c, str(c.ch([10, 10, 11])))


@gen('rdns')
def _g_rdns(c, arg=None):
    return c.ch(['unknown', 'unknown', 'mail-%s.outbound.protection.outlook.com' % GEN['an'](c, '6'),
                 'mail-%s.google.com' % GEN['an'](c, '8'), 'smtp%d.%s' % (c.r(1, 9), c.ch(POOLS['domain']))])


@gen('delays')
def _g_delays(c, arg=None):
    return '/'.join(f'{c.rng.uniform(0, x):.2g}' for x in (0.5, 0.05, 2, 1.5))


@fmt('postfix', n=360, start=D(2026, 12, 10, 5, 0, 0), days=3.0,
     title='Postfix mail log (/var/log/mail.log, RFC 3164 syslog)',
     source='https://www.postfix.org/DEBUG_README.html and https://www.postfix.org/postconf.5.html',
     header='`Mmm dd HH:MM:SS host postfix/daemon[pid]: `',
     content='Everything after `postfix/daemon[pid]: `; the queue id prefix (`3F2A01C0E4: `) is part of Content and a variable.')
def f_postfix(c):
    Q = '«$q=qid»'
    Qu = '«$q»'
    CL = '«$h=rdns»[«$ip=pip»]'
    CLu = '«$h»[«$ip»]'
    items = [
        S(16, T(0, 'connect from ' + CL, d='smtpd'),
              T(0, Q + ': client=' + CLu, d='smtpd'),
              T(0, Qu + ': message-id=<«msgid»>', d='cleanup'),
              T(0, Qu + ': from=<«email»>, size=«i:900-9000000», nrcpt=1 (queue active)', d='qmgr'),
              T(0, Qu + ': to=<«$rcpt=email»>, relay=dovecot, delay=«f:0.05-9:2», delays=«delays», dsn=2.0.0, status=sent (delivered via dovecot service)', d='lmtp'),
              T(0, Qu + ': removed', d='qmgr'),
              T(0, 'disconnect from ' + CLu + ' ehlo=«pick:1» mail=«pick:1» rcpt=«pick:1|1|1|2» data=«pick:1» quit=«pick:1» commands=«pick:5|5|5|6»', d='smtpd'), gap=(0.001, 1.5)),
        S(10, T(0, Q + ': message-id=<«msgid:mail.example.com»>', d='cleanup'),
              T(0, Qu + ': from=<«email»>, size=«i:900-9000000», nrcpt=1 (queue active)', d='qmgr'),
              T(0, Qu + ': to=<«email»>, relay=«rdns»[«pip»]:25, delay=«f:0.1-9:2», delays=«delays», dsn=2.0.0, status=sent (250 2.0.0 OK  «i:1700000000-1800000000» «AN:12»-«AN:10».«i:100-999» - gsmtp)', d='smtp'),
              T(0, Qu + ': removed', d='qmgr'), gap=(0.01, 3)),
        S(5, T(0, Q + ': message-id=<«msgid:mail.example.com»>', d='cleanup'),
             T(0, Qu + ': from=<«email»>, size=«i:900-9000000», nrcpt=1 (queue active)', d='qmgr'),
             T(0, Qu + ': to=<«email»>, relay=none, delay=«f:30-90000:0», delays=«delays», dsn=4.4.1, status=deferred (connect to «rdns»[«pip»]:25: Connection timed out)', d='smtp'), gap=(0.01, 30)),
        S(4, T(0, Q + ': message-id=<«msgid:mail.example.com»>', d='cleanup'),
             T(0, Qu + ': from=<«email»>, size=«i:900-9000000», nrcpt=1 (queue active)', d='qmgr'),
             T(0, Qu + ': to=<«$r=email»>, relay=«rdns»[«pip»]:25, delay=«f:0.2-9:2», delays=«delays», dsn=5.1.1, status=bounced (host «rdns»[«pip»] said: 550 5.1.1 <«$r»>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command))', d='smtp'),
             T(0, Qu + ': sender non-delivery notification: «qid»', d='bounce'),
             T(0, Qu + ': removed', d='qmgr'), gap=(0.01, 2)),
        S(8, T(0, 'connect from ' + CL, d='smtpd'),
             T(0, 'NOQUEUE: reject: RCPT from ' + CLu + ': 554 5.7.1 <«$r=email»>: Relay access denied; from=<«email»> to=<«$r»> proto=ESMTP helo=<«helo»>', d='smtpd'),
             T(0, 'disconnect from ' + CLu + ' ehlo=«pick:1» mail=«pick:1» rcpt=«pick:0/1» quit=«pick:1» commands=«pick:3/4»', d='smtpd'), gap=(0.01, 2)),
        S(8, T(0, 'connect from ' + CL, d='smtpd'),
             T(0, 'warning: ' + CLu + ': SASL LOGIN authentication failed: UGFzc3dvcmQ6', d='smtpd'),
             T(0, 'lost connection after AUTH from ' + CLu, d='smtpd'),
             T(0, 'disconnect from ' + CLu + ' ehlo=«pick:1» auth=«pick:0/1» commands=«pick:1/2»', d='smtpd'), gap=(0.01, 4)),
        T(4, 'warning: hostname «rdns» does not resolve to address «pip»: Name or service not known', d='smtpd'),
        T(4, 'statistics: max connection rate «i:1-40»/60s for (smtp:«pip») at «tsago:%b %e %H:%M:%S»', d='anvil'),
        T(3, 'statistics: max connection count «i:1-9» for (smtp:«pip») at «tsago:%b %e %H:%M:%S»', d='anvil'),
    ]
    def line(c, t, msg, m):
        d = m['d']
        pid = c.vars.setdefault('_pid_' + d, c.st.setdefault(d, c.r(1000, 90000)) if d in ('qmgr', 'anvil') else c.r(1000, 90000))
        return f'{bsd_ts(t)} mx1 postfix/{d}[{pid}]: {msg}'
    return dict(items=items, line=line, extract=rx(r'^\w{3} [ \d]\d \d\d:\d\d:\d\d \S+ postfix/[\w/-]+\[\d+\]: (?P<c>.*)$'))


@gen('msgid')
def _g_msgid(c, arg=None):
    return f'{GEN["hex"](c, "16")}@{arg or c.ch(POOLS["domain"])}'


@gen('helo')
def _g_helo(c, arg=None):
    return c.ch(['User', 'localhost', 'WIN-%s' % GEN['AN'](c, '11').upper(), '[%s]' % GEN['pip'](c)])


# ---------------------------------------------------------------------------------------------- workflow engines
@gen('afrun')
def _g_afrun(c, arg=None):
    day = (c.now - timedelta(days=1)).strftime('%Y-%m-%d')
    if c.rng.random() < 0.8:
        c.vars['ed'] = f'{day} 00:00:00+00:00'
        c.vars['edc'] = f'{day.replace("-", "")}T000000'
        return f'scheduled__{day}T00:00:00+00:00'
    m = c.now - timedelta(seconds=c.r(5, 60))
    c.vars['ed'] = tfmt(m, '%Y-%m-%d %H:%M:%S.%6+00:00')
    c.vars['edc'] = tfmt(m, '%Y%m%dT%H%M%S')
    return tfmt(m, 'manual__%Y-%m-%dT%H:%M:%S.%6+00:00')


@gen('afdag')
def _g_afdag(c, arg=None):
    d = c.ch(['etl_orders_daily', 'sync_crm_contacts', 'dbt_marts_nightly', 'export_finance_reports'])
    c.vars['t'] = {'etl_orders_daily': c.ch(['extract_orders', 'load_orders', 'validate_counts']),
                   'sync_crm_contacts': c.ch(['pull_contacts', 'push_updates']),
                   'dbt_marts_nightly': c.ch(['dbt_run', 'dbt_test']),
                   'export_finance_reports': c.ch(['render_reports', 'upload_to_sftp'])}[d]
    return d


@fmt('airflow', n=340, start=D(2026, 12, 4, 0, 0, 5), days=5.0,
     title='Apache Airflow 2.10 task instance log',
     source='https://airflow.apache.org/docs/apache-airflow/stable/administration-and-deployment/logging-monitoring/logging-tasks.html (log_format `[%(asctime)s] {%(filename)s:%(lineno)d} %(levelname)s - %(message)s`)',
     header='`[yyyy-mm-dd, HH:MM:SS UTC] {file.py:line} LEVEL - `',
     content='Everything after `LEVEL - `.')
def f_airflow(c):
    TI = '«$d»' + '.' + '«$t»' + ' «$r»'
    head = [T(0, 'Dependencies all met for dep_context=non-requeueable deps ti=<TaskInstance: «$d=afdag».«$t» «$r=afrun» [queued]>', f='taskinstance.py:2614'),
            T(0, 'Dependencies all met for dep_context=requeueable deps ti=<TaskInstance: ' + TI + ' [queued]>', f='taskinstance.py:2614'),
            T(0, 'Starting attempt «$a=pick:1|1|1|2» of 3', f='taskinstance.py:2867'),
            T(0, 'Executing <Task(BashOperator): «$t»> on «$ed»', f='taskinstance.py:2890'),
            T(0, 'Started process «i:100-99999» to run task', f='standard_task_runner.py:72'),
            T(0, "Running: ['airflow', 'tasks', 'run', '«$d»', '«$t»', '«$r»', '--job-id', '«$job=i:10000-999999»', '--raw', '--subdir', 'DAGS_FOLDER/«$d».py', '--cfg-path', '/tmp/tmp«an:8»']", f='standard_task_runner.py:104'),
            T(0, 'Job «$job»: Subtask «$t»', f='standard_task_runner.py:105'),
            T(0, 'Running <TaskInstance: ' + TI + ' [running]> on host «pick:airflow-worker-0|airflow-worker-1|airflow-worker-2».airflow-worker.airflow.svc.cluster.local', f='task_command.py:467'),
            T(0, "Exporting env vars: AIRFLOW_CTX_DAG_OWNER='data-eng' AIRFLOW_CTX_DAG_ID='«$d»' AIRFLOW_CTX_TASK_ID='«$t»' AIRFLOW_CTX_EXECUTION_DATE='«$ed»' AIRFLOW_CTX_TRY_NUMBER='«$a»' AIRFLOW_CTX_DAG_RUN_ID='«$r»'", f='taskinstance.py:3134'),
            T(0, 'Tmp dir root location: /tmp', f='subprocess.py:63'),
            T(0, "Running command: ['/usr/bin/bash', '-c', '/opt/airflow/jobs/«$t».sh «$ed»']", f='subprocess.py:75'),
            T(0, 'Output:', f='subprocess.py:86')]
    ok = [T(0, 'Processed «i:1-900000» records from «pick:postgres://orders-replica/shop|s3://acme-raw-events/orders|https://crm.example.com/api»', f='subprocess.py:93'),
          T(0, 'Command exited with return code 0', f='subprocess.py:97'),
          T(0, 'Done. Returned value was: None', f='python.py:240'),
          T(0, 'Marking task as SUCCESS. dag_id=«$d», task_id=«$t», run_id=«$r», execution_date=«$edc», start_date=«tsago:%Y%m%dT%H%M%S», end_date=«ts:%Y%m%dT%H%M%S»', f='taskinstance.py:352'),
          T(0, 'Task exited with return code 0', f='local_task_job_runner.py:266'),
          T(0, '«i:0-3» downstream tasks scheduled from follow-on schedule check', f='taskinstance.py:3895')]
    bad = [T(0, 'ERROR: «pick:connection to server at \"orders-replica\" (10.0.4.12), port 5432 failed: timeout expired|upstream returned HTTP 503|disk quota exceeded»', f='subprocess.py:93'),
           T(0, 'Command exited with return code 1', f='subprocess.py:97'),
           T(0, 'Task failed with exception', f='taskinstance.py:3310', lvl='ERROR'),
           T(0, 'Marking task as UP_FOR_RETRY. dag_id=«$d», task_id=«$t», run_id=«$r», execution_date=«$edc», start_date=«tsago:%Y%m%dT%H%M%S», end_date=«ts:%Y%m%dT%H%M%S»', f='taskinstance.py:1225'),
           T(0, 'Failed to execute job «$job» for task «$t» (Bash command failed. The command returned a non-zero exit code 1.; «i:100-99999»)', f='standard_task_runner.py:124', lvl='ERROR'),
           T(0, 'Task exited with return code 1', f='local_task_job_runner.py:266')]
    items = [S(5, *head, *ok, gap=(0.005, 40)), S(1, *head, *bad, gap=(0.005, 40))]
    def line(c, t, msg, m):
        return f'[{tfmt(t, "%Y-%m-%d, %H:%M:%S UTC")}] {{{m["f"]}}} {m.get("lvl", "INFO")} - {msg}'
    return dict(items=items, line=line, extract=rx(r'^\[\d{4}-\d\d-\d\d, \d\d:\d\d:\d\d UTC\] \{[\w.]+:\d+\} (?:DEBUG|INFO|WARNING|ERROR|CRITICAL) - (?P<c>.*)$'))


@gen('driftrecv')
def _g_driftrecv(c, arg=None):
    return tfmt(c.now + timedelta(seconds=int(c.vars['dr']), microseconds=c.r(0, 999999)), '%Y-%m-%d %H:%M:%S.%6')


@gen('ctask')
def _g_ctask(c, arg=None):
    return c.ch(['shop.tasks.send_order_email', 'shop.tasks.generate_invoice_pdf', 'shop.tasks.sync_inventory',
                 'shop.tasks.recalculate_recommendations', 'celery.backend_cleanup'])


@fmt('celery', n=360, start=D(2026, 12, 11, 1, 0, 0), days=3.0,
     title='Celery 5 worker log (default worker log format)',
     source='https://docs.celeryq.dev/en/stable/userguide/configuration.html#worker-log-format',
     header='`[yyyy-mm-dd HH:MM:SS,mmm: LEVEL/ProcessName] `',
     content='Everything after the closing `] `. Task names are treated as variables (identifiers), like ids.')
def f_celery(c):
    items = [
        S(26, T(0, 'Task «$n=ctask»[«$i=uuid»] received', p='MainProcess'),
              T(0, 'Task «$n»[«$i»] succeeded in «f:0.001-40:9»s: «pick:None|None|{\'sent\': True}|\'ok\'|{\'rows\': 1532}»', p='ForkPoolWorker-«i:1-8»'), gap=(0.001, 30)),
        S(4, T(0, 'Task «$n=ctask»[«$i=uuid»] received', p='MainProcess'),
             T(0, 'Task «$n»[«$i»] retry: Retry in «pick:10|30|60|120»s: «pick:ConnectionError(\'Connection refused\')|SMTPServerDisconnected(\'Connection unexpectedly closed\')|TimeoutError()»', p='ForkPoolWorker-«i:1-8»', lvl='INFO'), gap=(0.01, 30)),
        S(3, T(0, 'Task «$n=ctask»[«$i=uuid»] received', p='MainProcess'),
             T(0, 'Task «$n»[«$i»] raised unexpected: «pick:KeyError(\'customer_id\')|IntegrityError(\'duplicate key value violates unique constraint \"invoices_number_key\"\')|ValueError(\'invalid literal for int() with base 10: \\\'\\\'\')»', p='ForkPoolWorker-«i:1-8»', lvl='ERROR'), gap=(0.01, 30)),
        T(3, 'Hard time limit (300s) exceeded for «ctask»[«uuid»]', p='MainProcess', lvl='ERROR'),
        T(2, "Process 'ForkPoolWorker-«i:1-8»' pid:«i:100-99999» exited with 'signal 9 (SIGKILL)'", p='MainProcess', lvl='ERROR'),
        T(4, 'missed heartbeat from celery@worker-«i:1-6»', p='MainProcess'),
        T(3, 'Substantial drift from celery@worker-«i:1-6» may mean clocks are out of sync.  Current drift is «$dr=i:16-90» seconds.  [orig: «ts:%Y-%m-%d %H:%M:%S.%6» recv: «driftrecv»]', p='MainProcess', lvl='WARNING'),
        T(3, 'Events of group {task} enabled by remote.', p='MainProcess'),
        S(1, T(0, 'Connected to amqp://celery:**@rabbitmq.prod.svc:5672//', p='MainProcess'),
             T(0, 'mingle: searching for neighbors', p='MainProcess'),
             T(0, 'mingle: sync with «i:1-5» nodes', p='MainProcess'),
             T(0, 'mingle: sync complete', p='MainProcess'),
             T(0, 'celery@«$h=pick:worker-1|worker-2|worker-3» ready.', p='MainProcess'), first=True, min=2),
        T(1, 'worker: Warm shutdown (MainProcess)', p='MainProcess', min=2),
    ]
    def line(c, t, msg, m):
        p = render(m['p'], c)[0]
        return f'[{tfmt(t, "%Y-%m-%d %H:%M:%S,%3")}: {m.get("lvl", "INFO")}/{p}] {msg}'
    return dict(items=items, line=line, extract=rx(r'^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}: \w+/[\w-]+\] (?P<c>.*)$'))


# ---------------------------------------------------------------------------------------------- Windows
@gen('cbspkg')
def _g_cbspkg(c, arg=None):
    b = c.ch(['19041.5072', '19041.5131', '19041.5198'])
    return c.ch([f'Package_for_RollupFix~31bf3856ad364e35~amd64~~{b}.1.{c.r(1, 19)}',
                 f'Package_for_KB{c.r(5000000, 5049999)}~31bf3856ad364e35~amd64~~{b}.1.{c.r(1, 19)}',
                 f'Package_for_ServicingStack_{b.split(".")[1]}~31bf3856ad364e35~amd64~~{b}.1.{c.r(1, 9)}'])


@gen('csiseq')
def _g_csiseq(c, arg=None):
    c.st['csi'] = c.st.get('csi', 0) + c.r(1, 3)
    return f'{c.st["csi"]:08x}'


@gen('csits')
def _g_csits(c, arg=None):
    u = c.now - timedelta(hours=1)
    return f'{u.year}/{u.month}/{u.day}:{u:%H:%M:%S}.{u.microsecond // 1000:03d}'


@gen('csistack')
def _g_csistack(c, arg=None):
    return ' '.join('@0x7ff' + GEN['hex'](c, '9') for _ in range(c.r(4, 6)))


@fmt('windows_cbs', n=330, start=D(2026, 12, 8, 3, 0, 12), days=6.0, eol='\r\n',
     title='Windows Component-Based Servicing log (C:\\Windows\\Logs\\CBS\\CBS.log), CRLF line endings',
     source='https://learn.microsoft.com/en-us/troubleshoot/windows-server/installing-updates-features-roles/analyze-sfc-program-log-file-entries (layout as in Loghub Windows)',
     header='`yyyy-mm-dd HH:MM:SS, Level(padded to 22) Component(padded to 7)`, e.g. `2026-12-08 03:00:12, Info                  CBS    `',
     content='Everything after the padded component (CBS, CSI).')
def f_cbs(c):
    B = '«$b=pick:19041.5072|19041.5131»'
    items = [
        S(3, T(0, 'Loaded Servicing Stack v10.0.' + B + ' with Core: C:\\Windows\\winsxs\\amd64_microsoft-windows-servicingstack_31bf3856ad364e35_10.0.«$b»_none_«hex:16»\\cbscore.dll', comp='CBS'),
             T(0, '«csiseq»@«csits» WcpInitialize (wcp.dll version 0.0.0.6) called (stack «csistack»)', comp='CSI'),
             T(0, '«csiseq»@«csits» WcpInitialize (wcp.dll version 0.0.0.6) called (stack «csistack»)', comp='CSI'),
             T(0, 'Ending TrustedInstaller initialization.', comp='CBS'),
             T(0, 'Starting the TrustedInstaller main loop.', comp='CBS'),
             T(0, 'TrustedInstaller service starts successfully.', comp='CBS'),
             T(0, 'SQM: Initializing online with Windows opt-in: False', comp='CBS'),
             T(0, 'SQM: Cleaning up report files older than 10 days.', comp='CBS'),
             T(0, 'SQM: Requesting upload of all unsent reports.', comp='CBS'),
             T(0, 'SQM: Failed to start upload with file pattern: C:\\Windows\\servicing\\sqm\\*_std.sqm, flags: 0x2 [HRESULT = 0x80004005 - E_FAIL]', comp='CBS'),
             T(0, 'SQM: Failed to start standard sample upload. [HRESULT = 0x80004005 - E_FAIL]', comp='CBS'), gap=(0.001, 0.9)),
        S(6, T(0, 'Session: «i:31140000-31149999»_«i:1000000000-4294967295» initialized by client WindowsUpdateAgent, external staging directory: (null), external registry directory: (null)', comp='CBS'),
             T(0, 'Read out cached package applicability for package: «cbspkg», ApplicableState: «$st=pick:112|80», CurrentState:«$st»', comp='CBS'),
             T(0, 'Read out cached package applicability for package: «cbspkg», ApplicableState: «$st=pick:112|80», CurrentState:«$st»', comp='CBS'),
             T(0, 'Reboot mark refs: «i:0-2»', comp='CBS'), gap=(0.001, 1.5)),
        T(4, 'Session: «i:31140000-31149999»_«i:1000000000-4294967295» initialized by client UpdateAgentLCU, external staging directory: (null), external registry directory: (null)', comp='CBS'),
        S(5, T(0, '«csiseq» CSI Store «i:1000000000000-9999999999999» (0x«hex:16») initialized', comp='CSI'),
             T(0, '«csiseq» Creating NT transaction (seq «$s=i:1-40»), objectname [6]"(null)"', comp='CSI'),
             T(0, '«csiseq» Created NT transaction (seq «$s») result 0x00000000, handle @0x«hex:3»', comp='CSI'),
             T(0, '«csiseq»@«csits» CSI Transaction @0x«hex:12» destroyed', comp='CSI'), gap=(0.001, 0.3)),
        T(4, 'Failed to get next element [HRESULT = 0x800f080d - CBS_E_MANIFEST_INVALID_ITEM]', comp='CBS', lvl='Error'),
        T(4, 'Warning: Unrecognized packageExtended attribute.', comp='CBS'),
        S(3, T(0, 'Trusted Installer is shutting down because: SHUTDOWN_REASON_AUTOSTOP', comp='CBS'),
             T(0, 'Ending the TrustedInstaller main loop.', comp='CBS'),
             T(0, 'Starting TrustedInstaller finalization.', comp='CBS'),
             T(0, 'Ending TrustedInstaller finalization.', comp='CBS'), gap=(0.001, 0.5)),
    ]
    def line(c, t, msg, m):
        return f'{tfmt(t, "%Y-%m-%d %H:%M:%S")}, {m.get("lvl", "Info"):<22}{m["comp"]:<7}{msg}'
    return dict(items=items, line=line, extract=rx(r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d, \w+ +\w+ +(?P<c>\S.*)$'))


# ---------------------------------------------------------------------------------------------- epoch-prefixed: Nagios
NSVC = {'HTTP': {'CRITICAL': 'CRITICAL - Socket timeout after 10 seconds', 'WARNING': 'HTTP WARNING: HTTP/1.1 404 Not Found - {b} bytes in {s} second response time',
                 'OK': 'HTTP OK: HTTP/1.1 200 OK - {b} bytes in {s} second response time'},
        'Disk /': {'CRITICAL': 'DISK CRITICAL - free space: / {mb} MiB ({p}% inode={i}%);', 'WARNING': 'DISK WARNING - free space: / {mb} MiB ({p}% inode={i}%);',
                   'OK': 'DISK OK - free space: / {mb} MiB ({p}% inode={i}%);'},
        'Current Load': {'CRITICAL': 'CRITICAL - load average: {l}, {l}, {l}', 'WARNING': 'WARNING - load average: {l}, {l}, {l}', 'OK': 'OK - load average: {l}, {l}, {l}'},
        'PostgreSQL connections': {'CRITICAL': 'POSTGRES_CONNECTION CRITICAL: DB "postgres" (host:db-01) connection timed out', 'WARNING': 'POSTGRES_BACKENDS WARNING: (host:db-01) {n} of 200 connections',
                                   'OK': 'POSTGRES_CONNECTION OK: DB "postgres" (host:db-01) version 16.6 :: response time={s}'}}


@gen('nsvc')
def _g_nsvc(c, arg=None):
    s = c.ch(list(NSVC))
    c.vars['svc'] = s
    return s


@gen('nout')
def _g_nout(c, arg):
    f = NSVC[c.vars.get('svc', 'HTTP')][arg]
    return f.format(b=c.r(300, 90000), s=f'{c.rng.uniform(0.001, 3):.3f}', mb=c.r(100, 90000), p=f'{c.rng.uniform(1, 80):.1f}',
                    i=c.r(50, 99), l=f'{c.rng.uniform(0.1, 30):.2f}', n=c.r(150, 199))


@gen('nhost')
def _g_nhost(c, arg=None):
    return c.ch(['web-01', 'web-02', 'db-01', 'cache-01', 'lb-01', 'mail-01'])


@fmt('nagios', n=320, start=D(2026, 12, 3, 0, 0, 0), days=7.0,
     title='Nagios Core 4 main log (nagios.log), epoch-seconds prefix',
     source='https://assets.nagios.com/downloads/nagioscore/docs/nagioscore/4/en/configmain.html#log_file',
     header='`[epoch-seconds] `',
     content='Everything after `[epoch] `. Semicolon-separated fields: host, service and plugin output are variables, the state (OK/WARNING/CRITICAL, UP/DOWN) and state type (SOFT/HARD) are constants, so each combination is its own template.')
def f_nagios(c):
    H, SV = '«$h=nhost»', '«$s=nsvc»'
    items = [
        S(8, T(0, f'SERVICE ALERT: {H};{SV};CRITICAL;SOFT;«pick:1»;«nout:CRITICAL»'),
             T(0, 'SERVICE ALERT: «$h»;«$s»;CRITICAL;SOFT;«pick:2»;«nout:CRITICAL»'),
             T(0, 'SERVICE ALERT: «$h»;«$s»;CRITICAL;HARD;«pick:3»;«nout:CRITICAL»'),
             T(0, 'SERVICE NOTIFICATION: «$ct=pick:oncall-sms|ops-team»;«$h»;«$s»;CRITICAL;notify-service-by-email;«nout:CRITICAL»'),
             T(0, 'SERVICE ALERT: «$h»;«$s»;OK;HARD;«pick:3»;«nout:OK»'),
             T(0, 'SERVICE NOTIFICATION: «$ct»;«$h»;«$s»;OK;notify-service-by-email;«nout:OK»'), gap=(60, 900)),
        S(10, T(0, f'SERVICE ALERT: {H};{SV};WARNING;SOFT;«pick:1»;«nout:WARNING»'),
              T(0, 'SERVICE ALERT: «$h»;«$s»;OK;SOFT;«pick:2»;«nout:OK»'), gap=(60, 600)),
        S(3, T(0, f'HOST ALERT: {H};DOWN;SOFT;«pick:1»;PING CRITICAL - Packet loss = «pick:100»%'),
             T(0, 'HOST ALERT: «$h»;DOWN;HARD;«pick:2|3»;PING CRITICAL - Packet loss = «pick:100»%'),
             T(0, 'HOST NOTIFICATION: «pick:oncall-sms|ops-team»;«$h»;DOWN;notify-host-by-email;PING CRITICAL - Packet loss = «pick:100»%'),
             T(0, 'HOST ALERT: «$h»;UP;HARD;«pick:1»;PING OK - Packet loss = «pick:0»%, RTA = «f:0.2-3:2» ms'), gap=(30, 1200)),
        T(14, 'Auto-save of retention data completed successfully.'),
        T(4, 'EXTERNAL COMMAND: SCHEDULE_FORCED_SVC_CHECK;«nhost»;«nsvc»;«epoch»'),
        T(3, 'EXTERNAL COMMAND: ACKNOWLEDGE_SVC_PROBLEM;«nhost»;«nsvc»;«pick:2»;«pick:1»;«pick:0|1»;«user»;«ackmsg»'),
        T(4, "Warning: Return code of 255 for check of service '«nsvc»' on host '«nhost»' was out of bounds."),
        T(3, 'SERVICE FLAPPING ALERT: «nhost»;«nsvc»;STARTED; Service appears to have started flapping («f:20-40:1»% change >= 20.0% threshold)'),
        T(3, 'SERVICE FLAPPING ALERT: «nhost»;«nsvc»;STOPPED; Service appears to have stopped flapping («f:1-4.9:1»% change < 5.0% threshold)'),
        S(2, T(0, 'LOG ROTATION: DAILY'), T(0, 'LOG VERSION: 2.0'),
             T(0, 'CURRENT HOST STATE: «nhost»;UP;HARD;«pick:1»;PING OK - Packet loss = «pick:0»%, RTA = «f:0.2-3:2» ms'),
             T(0, 'CURRENT HOST STATE: «nhost»;UP;HARD;«pick:1»;PING OK - Packet loss = «pick:0»%, RTA = «f:0.2-3:2» ms'),
             T(0, 'CURRENT SERVICE STATE: «nhost»;«nsvc»;OK;HARD;«pick:1»;«nout:OK»'),
             T(0, 'CURRENT SERVICE STATE: «nhost»;«nsvc»;OK;HARD;«pick:1»;«nout:OK»'), gap=(0, 1)),
        S(1, T(0, 'Caught SIGHUP, restarting...'),
             T(0, 'Nagios 4.5.7 starting... (PID=«i:1000-90000»)'),
             T(0, 'Local time is «ts:%a %b %d %H:%M:%S UTC %Y»'),
             T(0, 'Successfully launched command file worker with pid «i:1000-90000»'), min=2, gap=(0, 2)),
    ]
    def line(c, t, msg, m):
        return f'[{int(epoch(t))}] {msg}'
    return dict(items=items, line=line, extract=rx(r'^\[\d{10}\] (?P<c>.*)$'))


@gen('ackmsg')
def _g_ackmsg(c, arg=None):
    return c.ch(['looking into it', 'known issue, ticket OPS-%d' % c.r(100, 999), 'disk cleanup scheduled'])


# ---------------------------------------------------------------------------------------------- time-only: Minecraft
@fmt('minecraft', n=330, start=D(2026, 12, 4, 16, 0, 0), days=3.0, eol='\r',
     title='Minecraft Java Edition dedicated server log (logs/latest.log), time-only `[HH:MM:SS]` prefix, lone-CR line endings',
     source='https://minecraft.wiki/w/Server.properties and the vanilla log4j2 pattern `[%d{HH:mm:ss}] [%t/%level]: %msg%n`',
     header='`[HH:MM:SS] [thread/LEVEL]: ` (no date)',
     content='Everything after `]: `.')
def f_minecraft(c):
    P = '«$p=player»'
    items = [
        S(14, T(0, 'UUID of player ' + P + ' is «uuid»', th='User Authenticator #«i:1-40»'),
              T(0, '«$p»[/«pip»:«port»] logged in with entity id «i:100-99999» at («coord», «f:60-120:1», «coord»)'),
              T(0, '«$p» joined the game'),
              T(0, '«$p» lost connection: Disconnected'),
              T(0, '«$p» left the game'), gap=(0.05, 3000)),
        S(4, T(0, P + ' lost connection: Timed out'), T(0, '«$p» left the game')),
        T(8, '«player» has made the advancement [«pick:Stone Age|Getting an Upgrade|Acquire Hardware|Hot Stuff|Isn\'t It Iron Pick|Diamonds!|We Need to Go Deeper»]'),
        T(3, '«player» has completed the challenge [«pick:Serious Dedication|How Did We Get Here?|Adventuring Time»]'),
        T(5, '«player» was slain by «pick:Zombie|Skeleton|Spider|Creeper|Drowned»'),
        T(4, '«player» fell from a high place'),
        T(3, '«player» drowned'),
        T(3, '«player» tried to swim in lava'),
        T(8, "Can't keep up! Is the server overloaded? Running «i:2001-9000»ms or «i:40-180» ticks behind", lvl='WARN'),
        T(4, '«player» moved too quickly! «delta»,«delta»,«delta»', lvl='WARN'),
        T(6, 'Saving the game (this may take a moment!)'),
        T(6, 'Saved the game'),
        S(1, T(0, 'Stopping the server'), T(0, 'Stopping server'), T(0, 'Saving players'), T(0, 'Saving worlds'),
             T(0, "Saving chunks for level 'ServerLevel[world]'/minecraft:overworld"),
             T(0, 'ThreadedAnvilChunkStorage (world): All chunks are saved'),
             T(0, 'Starting minecraft server version 1.21.4', restart=True),
             T(0, "Preparing level \"world\""),
             T(0, 'Preparing start region for dimension minecraft:overworld', th='Worker-Main-«i:1-8»'),
             T(0, 'Done («f:3-40:3»s)! For help, type "help"'), min=2, gap=(0.01, 8)),
    ]
    def line(c, t, msg, m):
        th = render(m.get('th', 'Server thread'), c)[0]
        return f'[{tfmt(t, "%H:%M:%S")}] [{th}/{m.get("lvl", "INFO")}]: {msg}'
    return dict(items=items, line=line, extract=rx(r'^\[\d\d:\d\d:\d\d\] \[[^\]]+/(?:INFO|WARN|ERROR|FATAL)\]: (?P<c>.*)$'))


@gen('delta')
def _g_delta(c, arg=None):
    return f'{c.rng.uniform(-20, 20):.6f}'


@gen('coord')
def _g_coord(c, arg=None):
    return f'{c.rng.uniform(-3000, 3000):.3f}'


# ---------------------------------------------------------------------------------------------- no header: Terraform
TF_RES = [('aws_instance.app[%d]', 'i-0%s' , 17), ('aws_security_group.web', 'sg-0%s', 17), ('module.vpc.aws_subnet.private[%d]', 'subnet-0%s', 17),
          ('aws_db_instance.main', 'prod-orders-db', 0), ('aws_lb_target_group.api', 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/api-tg/%s', 16),
          ('aws_iam_role_policy.worker', 'prod-worker:prod-worker-s3', 0), ('module.eks.aws_eks_node_group.default', 'prod:default-%s', 8),
          ('aws_route53_record.api', 'Z0123456789ABCDEFGHIJ_api.example.com_A', 0), ('aws_s3_bucket.exports', 'acme-exports', 0)]


@gen('tfaddr')
def _g_tfaddr(c, arg=None):
    a, idf, n = c.ch(TF_RES)
    addr = a % c.r(0, 2) if '%d' in a else a
    c.vars['tfid'] = idf % GEN['hex'](c, str(n)) if n else idf
    return addr


@gen('tfid')
def _g_tfid(c, arg=None):
    return c.vars['tfid']


@gen('tfel')
def _g_tfel(c, arg=None):
    c.vars['_el'] = c.vars.get('_el', 0) + 10
    e = c.vars['_el']
    return f'{e}s' if e < 60 else f'{e // 60}m{e % 60}s'


@gen('tfdur')
def _g_tfdur(c, arg=None):
    e = c.vars.get('_el', 0) + c.r(1, 9)
    return f'{e}s' if e < 60 else f'{e // 60}m{e % 60}s'


@fmt('terraform', n=320, start=D(2026, 12, 4, 0, 0, 0), days=1.0,
     title='Terraform apply output captured from CI (bare messages, no header at all)',
     source='https://developer.hashicorp.com/terraform/cli/commands/apply',
     header='none: every line is the message',
     content='The whole line.')
def f_terraform(c):
    A, Au = '«$a=tfaddr»', '«$a»'
    items = [
        S(3, T(0, 'Acquiring state lock. This may take a few moments...'),
             T(0, A + ': Refreshing state... [id=«tfid»]'), T(0, A + ': Refreshing state... [id=«tfid»]'),
             T(0, A + ': Refreshing state... [id=«tfid»]'), T(0, A + ': Refreshing state... [id=«tfid»]'),
             T(0, 'Terraform used the selected providers to generate the following execution plan. Resource actions are indicated with the following symbols:'),
             T(0, 'Terraform will perform the following actions:'),
             T(0, 'Plan: «i:0-12» to add, «i:0-9» to change, «i:0-4» to destroy.')),
        S(6, T(0, A + ': Creating...'), T(0, Au + ': Still creating... [«tfel» elapsed]'), T(0, Au + ': Still creating... [«tfel» elapsed]'),
             T(0, Au + ': Creation complete after «tfdur» [id=«tfid»]')),
        S(6, T(0, A + ': Creating...'), T(0, Au + ': Creation complete after «tfdur» [id=«tfid»]')),
        S(5, T(0, A + ': Modifying... [id=«tfid»]'), T(0, Au + ': Still modifying... [id=«tfid», «tfel» elapsed]'),
             T(0, Au + ': Modifications complete after «tfdur» [id=«tfid»]')),
        S(3, T(0, A + ': Destroying... [id=«tfid»]'), T(0, Au + ': Still destroying... [id=«tfid», «tfel» elapsed]'),
             T(0, Au + ': Destruction complete after «tfdur»')),
        S(3, T(0, 'Apply complete! Resources: «i:0-12» added, «i:0-9» changed, «i:0-4» destroyed.'),
             T(0, 'Releasing state lock. This may take a few moments...'),
             T(0, 'Outputs:'),
             T(0, '«pick:alb_dns_name|db_endpoint|cluster_endpoint» = "«tfout»"')),
        S(2, T(0, '╷'),
             T(0, '│ Error: «pick:creating EC2 Instance|modifying RDS DB Instance (prod-orders-db)»: operation error «pick:EC2: RunInstances|RDS: ModifyDBInstance», https response error StatusCode: «pick:400|409», RequestID: «uuid», api error «pick:InvalidParameterValue|InvalidDBInstanceState»: «pick:Value (t3.mega) for parameter instanceType is invalid.|Instance prod-orders-db is not in available state.»'),
             T(0, '│ '),
             T(0, '│   with ' + A + ','),
             T(0, '│   on «pick:main|compute|database».tf line «i:10-400», in resource "«pick:aws_instance|aws_db_instance»" "«pick:app|main»":'),
             T(0, '╵')),
        T(2, 'No changes. Your infrastructure matches the configuration.'),
    ]
    def line(c, t, msg, m):
        return msg
    return dict(items=items, line=line, extract=lambda line: line)


@gen('tfout')
def _g_tfout(c, arg=None):
    return c.ch(['prod-public-alb-%d.eu-west-1.elb.amazonaws.com' % c.r(100000000, 999999999),
                 'prod-orders-db.c%s.eu-west-1.rds.amazonaws.com' % GEN['an'](c, '12'),
                 'https://%s.gr7.eu-west-1.eks.amazonaws.com' % GEN['HEX'](c, '32')])


NOTES = {
    'nginx_access': 'Templates differ by method and route only (`capture` vs `refund` on the payments route are separate templates). '
                    'Includes scanner requests and a TLS handshake sent to the plain-HTTP port (`"\\x16\\x03\\x01..."`).',
    'nginx_error': 'Embedded `request: "..."` and `upstream: "..."` values are one variable each. A reload writes 12 master/worker lines without a `*cid`.',
    'apache_error': 'Lines with and without `[client ip:port]`; one message family starts with an APR error `(111)Connection refused: `.',
    'envoy_access': 'Includes TCP-proxy lines, whose request part is `"- - -"`.',
    'haproxy': 'Two Content layouts in one file: traffic lines (after the client and accept-date fields) and event lines (after `haproxy[pid]: `). '
               'Each host (lb-01, lb-02) has its own pid, changed by restarts.',
    'aws_alb': 'Lines are long (30 fields); `request_creation_time` inside Content is a timestamp variable. The ALB does not log health checks, so there are none.',
    'postgresql': 'ERROR/FATAL lines are followed by DETAIL/HINT/STATEMENT lines with the same backend pid; SQL statements with `$n` placeholders are constant text.',
    'mysql_error': 'The thread column is 0 for server-level events and a connection id otherwise.',
    'redis': 'Role letters change for the BGSAVE child (`C`), and the pid changes across a restart.',
    'mongodb': 'Every template is a constant message (`Slow query`, `Connection accepted`, ...): MongoDB puts all variable data in `attr`.',
    'kafka': 'Content excludes the trailing ` (logger)`, which is part of the log4j pattern, not of the message.',
    'rabbitmq': 'The memory alarm banner (`****...`) is written as separate lines with their own headers; they are constant templates.',
    'logback': 'The pattern has no date, so identical times recur on different days.',
    'spring_boot': 'Thread names are truncated to their last 15 characters and logger names abbreviated/padded to 40, as the default pattern does.',
    'zap_json': 'Mostly constant messages with the data in fields; a few sugared (`Infof`) messages carry variables.',
    'logrus': 'Some msg values contain quotes and are written Go-escaped (`msg="... \\"...\\" ..."`); Content is the unescaped text.',
    'klog': 'Structured messages embed Go-quoted strings (`output="Get \\"http://...\\"..."`), kept verbatim in Content.',
    'python_default': 'No timestamp at all in this layout.',
    'python_asctime': 'APScheduler messages embed two timestamps (`next run at: ...`, `scheduled at ...`), each one variable.',
    'rails': 'FATAL blocks contain lines that are only the request tag and two spaces (`[<request-id>]   `, trailing whitespace kept in Content).',
    'journald': 'The kernel identifier has no `[pid]`; systemd (pid 1) unit names and descriptions are variables.',
    'cri': 'stderr lines come from Go\'s `log` package and carry their own `yyyy/mm/dd HH:MM:SS` prefix inside Content (a variable).',
    'github_actions': 'Step and action names (`##[group]Run <step>`, `Download action repository \'<action>\'`) are user-chosen identifiers, so variables.',
    'jenkins': 'Pipeline step types (`[Pipeline] node`, `stage`, `bat`, `junit`, `// stage`) are the pipeline DSL\'s fixed vocabulary, so constants; '
               'stage names (`[Pipeline] { (Build)`) are user-chosen, so variables. Padded numbers in the dotnet test summary are single variables.',
    'syslog_cron': 'Several hosts; the day of month is space-padded (`Dec  4`) until it reaches two digits.',
    'syslog_rfc5424': 'Juniper lines carry MSGID and a `[junos@2636...]` SD element (header); Linux lines have `-` for both. '
                      'Close reasons (`TCP FIN`, `TCP RST`, `idle Timeout`, `response received`) are separate templates.',
    'postfix': 'A queue id ties the lines of one message together across daemons. The `disconnect` command statistics are variables, but each set of commands is its own template.',
    'airflow': 'Whole task attempts (about 18 lines each), successful and failed; DAG, task and run ids are variables.',
    'celery': 'Task names are variables (identifiers); `received`/`succeeded`/`retry`/`raised unexpected` are separate templates.',
    'windows_cbs': 'CSI lines embed a sequence number and a CSI timestamp (`0000001a@2026/12/8:17:35:59.047`), each a variable (Loghub\'s Windows set splits the latter further).',
    'nagios': 'Attempt numbers and plugin outputs are variables; states and state types are constants.',
    'minecraft': 'No date; the file uses lone CR line endings.',
    'terraform': 'No header at all; the error box uses UTF-8 box-drawing characters (`╷`, `│`, `╵`), and `│ ` lines keep their trailing space.',
}
for _F in FORMATS:
    _F['notes'] = NOTES.get(_F['name'], _F['notes'])


# ==============================================================================================
# README and main
# ==============================================================================================
EOL_NAME = {'\n': 'LF', '\r\n': 'CRLF', '\r': 'CR (lone carriage return)'}

README_HEAD = '''# Log format zoo

A held-out test set of {nformats} real-world log formats, each with the ground-truth template of every line,
for the log engine's template grouping. Nothing here is derived from the engine: the generator was written
from each product's documented log layout and from real messages of that software, without reading the
engine's code.

Everything is produced by `generate.py` (Python 3 standard library only, fixed seed {seed}, so a re-run
with the same Python version rewrites byte-identical files):

    python3 tests/logzoo/generate.py            # all formats, then this README
    python3 tests/logzoo/generate.py NAME ...   # only the named formats (README untouched)

For every format `NAME` there is a directory `NAME/` with

* `NAME.log` - the raw log, in the software's own layout and line ending;
* `NAME.log_structured.csv` - Loghub's convention (as in `shared/data/loghub-2k/*/*_structured.csv`):
  header `LineId,Content,EventId,EventTemplate`, one row per log line, `LineId` from 1, written with
  Python's `csv` module (minimal quoting, `\\n` row terminator). Unlike Loghub's files there are no
  header-field columns (Date, Level, ...): only the four columns asked for.

## What Content is

Content is the *message* part of a line: the line minus its header (timestamp, level, pid, host,
thread, logger, ...). The exact header of each format is given below, and the generator parses every
written line back with a per-format extractor and checks it yields exactly the Content (so the header
layouts documented here are the ones in the files).

* **Plain-text formats**: everything after the header.
* **JSON formats** (MongoDB, zap, pino, bunyan, GCP): the decoded value of the message field
  (`msg`, or `message` for GCP). The other fields, including ones carrying variables, are not Content.
* **logrus text** (`time=... level=... msg="..." k=v`): the unquoted value of `msg=` only, consistent with
  the JSON formats; the `key=value` fields after it are not Content.
* **Access logs** (nginx combined, Envoy, HAProxy, AWS ALB): Content is the whole request part after the
  timestamp/client fields - e.g. for nginx `"GET /x HTTP/1.1" 200 512 "-" "curl/8.5.0"` - see each
  format for the exact split.
* **klog**: everything after `] `, so for structured (`InfoS`) lines the quoted message *and* its
  `key="value"` pairs are Content (klog is a text format that mixes printf-style and structured lines).
* **Continuation lines** of multi-line messages (PostgreSQL DETAIL/STATEMENT/HINT, RabbitMQ's
  per-line-prefixed multi-line messages, Rails' FATAL blocks, Terraform's error box) are ordinary rows
  with their own templates, because each physical line carries its own header (or none).

## EventId and EventTemplate

* `EventTemplate` is Content with `<*>` at each variable position. A variable value is replaced as a
  whole: a number with decimals, a timestamp embedded in a message (`2026-12-04 10:15:30 UTC`), a
  duration (`1m25.7s`), a URL, a path, a UUID each become one `<*>`, while constant text glued to a value
  stays (`<*>ms`, `SKU-<*>`, `session-<*>.scope`, `0x<*>`). An address written as `ip:port` is two values,
  `<*>:<*>` (as in Loghub's HDFS templates), unless the port is constant (`<*>:6379`) or the whole
  `ip:port` is one access-log field. This is coarser than Loghub-2k's habit of also splitting decimals and
  times at `.` and `:` (`<*>.<*>`, `<*>:<*>:<*>`); for grouping accuracy the difference does not matter,
  for template-text comparisons normalise runs of `<*>` joined by punctuation first.
* `EventId` is `E1`, `E2`, ... in order of each template's first appearance in that file; the same
  template text always has the same id within a file. Ids are per file, not global.

## Labeling rules

The labels follow how Loghub's labelers treat things:

1. **Variables**: numbers, counts, sizes, durations, ids (request/trace/job/session/queue ids, UUIDs,
   hashes), IP addresses and ports, hostnames, user names, e-mail addresses, paths and URLs that vary,
   timestamps embedded in messages, and identifiers of the *objects* a message is about (table, topic,
   consumer group, task, DAG, unit, pod, container, service, job and stage names, Nagios host/service,
   resource addresses). Free-text parts that vary (commit messages, plugin output, exception text,
   decline/error codes such as `card_declined`) are one `<*>` each.
2. **Words with few values that change the meaning are constants**, so each value is its own template:
   HTTP methods (`GET` vs `POST`), actions (`capture` vs `refund`, `Payment authorized` vs
   `Refund issued`, Terraform `Creating`/`Modifying`/`Destroying`, kubelet `SyncLoop ADD/UPDATE/DELETE/REMOVE`,
   `ContainerStarted`/`ContainerDied`, `Readiness`/`Liveness`), outcomes (`Finished: SUCCESS`/`FAILURE`,
   Postfix `status=sent/deferred/bounced`, Airflow `SUCCESS`/`UP_FOR_RETRY`, `requeueable`/`non-requeueable`,
   `using password: YES`/`NO`, `error reading`/`timeout reading`, Juniper `TCP FIN`/`TCP RST`/`idle Timeout`/
   `response received`), states (Nagios `OK`/`WARNING`/`CRITICAL`, `SOFT`/`HARD`, `UP`/`DOWN`), causes
   (`Started by user`/`timer`/`GitHub push`; Minecraft `Disconnected`/`Timed out`, death messages) and
   clients (`WindowsUpdateAgent` vs `UpdateAgentLCU`, like Loghub's Windows `SPP`/`WindowsUpdateAgent`).
3. **Words with few values that do not change what happened are variables**: currencies, payment
   providers, HTTP protocol versions or status codes inside a message that is otherwise the same event,
   log levels (never in Content anyway).
4. **Access logs are labeled per field**: within the request line, the method, path skeleton and
   protocol are constant and ids/query values inside it are variables; *every other field* (status,
   bytes, referer, user agent, timings, flags, upstream, ARNs, trace ids, ...) is one `<*>` per field,
   even when it happens to be constant in this file. So access-log templates are distinguished by
   method + route only.
5. Values fixed by configuration that never vary within a file are kept literal (e.g. the pg_hba.conf
   line in PostgreSQL's DETAIL, broker id 1 in `[GroupCoordinator 1]`, ZooKeeper's `myid`).
6. A template is never split by numbers' width or padding: padded numbers (dotnet's `Passed:   142`)
   are one variable including their padding.

## Line endings

* CRLF: `jenkins` (Windows agent) and `windows_cbs` (CBS.log).
* Lone CR: `minecraft`.
* All others: LF. Every file ends with its line terminator.

## Ambiguity check

The generator reports, per file, how many Contents would *also* match another template of the same file
if every `<*>` could stand for any non-empty text (column "wildcard-ambiguous" below). Those are cases such
as `parameters: $1 = '<*>'` vs `parameters: $1 = '<*>', $2 = 'SKU-<*>'`, or Jest's
`Tests: <*> passed, <*> total` vs `Tests: <*> failed, <*> passed, <*> total`: the labels follow the
template that produced the line (as a human labeler would), but an engine that lets a wildcard swallow
commas and quotes could merge them.

## Formats

| format | software / layout | lines | templates | line ending | wildcard-ambiguous |
|---|---|---:|---:|---|---:|
'''


def write_readme(results):
    out = [README_HEAD.format(nformats=len(results), seed=SEED)]
    for F, nl, nt, amb in results:
        out.append(f'| [`{F["name"]}`](#{F["name"]}) | {F["title"]} | {nl} | {nt} | {EOL_NAME[F["eol"]]} | {amb} |\n')
    out.append(f'| **total** | | **{sum(r[1] for r in results)}** | **{sum(r[2] for r in results)}** | | |\n\n')
    for F, nl, nt, amb in results:
        out.append(f'### {F["name"]}\n\n')
        out.append(f'{F["title"]}.\n\n')
        out.append(f'* Source: {F["source"]}\n')
        out.append(f'* Header: {F["header"]}\n')
        out.append(f'* Content: {F["content"]}\n')
        if F['notes']:
            out.append(f'* Notes: {F["notes"]}\n')
        start = F['start'].strftime('%Y-%m-%d %H:%M')
        when = ('the layout carries no timestamps' if F['name'] in ('python_default', 'terraform')
                else f'time starts {start} and spans about {F["days"]:g} days')
        out.append(f'* {nl} lines, {nt} templates, line ending {EOL_NAME[F["eol"]]}; {when}.\n\n')
    out.append(README_TAIL)
    with open(os.path.join(HERE, 'README.md'), 'w', encoding='utf-8') as fh:
        fh.write(''.join(out))


README_TAIL = '''## Realism notes

* Timestamps advance across several days and hours with bursts, quiet gaps, restarts and day (and for
  `syslog_cron`, single/double-digit day) boundaries, so a timestamp treated as message text would create
  spurious templates. Formats whose layout has no date (`logback`, `minecraft`) or no time at all
  (`python_default`, `terraform`) show exactly that.
* Sequences keep their ids together (a Postfix queue id across smtpd/cleanup/qmgr/smtp lines, a Rails
  request id across Started/Processing/Completed, a Celery task id from `received` to `succeeded`, an Airflow
  run id through a whole task attempt, consumer-group generations in Kafka), and hosts, pids, thread names
  and worker numbers vary the way they do in the real software (new pids after restarts, child pids for
  Redis BGSAVE, per-connection PostgreSQL backends, Erlang pids in RabbitMQ).
* Infrastructure messages (nginx, Apache, PostgreSQL, MySQL, Redis, MongoDB, Kafka, RabbitMQ, ZooKeeper,
  Spring/Tomcat/Hikari, Docker, kubelet, systemd, cron, Postfix, Airflow, Celery, CBS, Nagios, Minecraft,
  Terraform, CI runners) follow the software's real message texts as documented or commonly seen; a few
  are reconstructed from memory and may differ in a word from a given version. Application-level
  messages (the order/billing/checkout/catalog services) are invented but written the way such services
  log. Some
  numeric codes in headers (MySQL `MY-0xxxxx` error codes, MongoDB `id`s, source line numbers in klog /
  ZooKeeper / Airflow headers) are plausible rather than verified for every message; they are header,
  not Content, and do not affect the labels.

## Not covered

* Stack traces and other header-less continuation lines of Java/Python/Go exceptions, and CRI partial
  (`P`) lines: deliberately left out, because how they should be labeled (one template per frame shape?
  merged into the previous entry?) is a policy question, not ground truth.
* Log lines with a UTF-8 BOM, tabs inside messages, or non-UTF-8 bytes.
'''


def main(argv):
    only = [a for a in argv if not a.startswith('-')]
    unknown = set(only) - {F['name'] for F in FORMATS}
    if unknown:
        sys.exit(f'unknown format(s): {", ".join(sorted(unknown))}')
    results, failed = [], False
    for F in FORMATS:
        if only and F['name'] not in only:
            continue
        rng = random.Random(f'{SEED}:{F["name"]}')
        rows, extract = run_format(F, rng)
        problems, amb, _, tems = check(F, rows, extract)
        if problems:
            failed = True
            print(f'{F["name"]}: {len(problems)} problem(s)', file=sys.stderr)
            for p in problems[:10]:
                print('  ' + p, file=sys.stderr)
        write_format(F, rows, tems)
        results.append((F, len(rows), len(tems), amb))
        print(f'{F["name"]:16} {len(rows):4} lines {len(tems):3} templates  {EOL_NAME[F["eol"]]:5}'
              + (f'  ({amb} wildcard-ambiguous)' if amb else ''))
    if not only:
        write_readme(results)
        print(f'{len(results)} formats, {sum(r[1] for r in results)} lines, {sum(r[2] for r in results)} templates')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
