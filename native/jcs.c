// jcsFromJson(src, start, end, dst, pos) -> the end of the RFC 8785 (JCS) form of the JSON text
// src[start, end) written into dst from pos; -1 when it declines, -2 when dst has too little room.
//
// The text is the event line as received, so the canonical bytes come without a JS object walk
// (the ~20 % of the front worker that jcsInto's object() cost). Its output equals
// jcs(JSON.parse(text)) or it declines, and the caller then serializes the parsed object:
//   - whitespace dropped; members sorted by their keys' UTF-16 code units; a duplicate key
//     declines (JSON.parse keeps the last value, at the first one's place);
//   - strings as JSON.stringify writes them: \" \\ \b \t \n \f \r, other controls \u00xx,
//     everything else as UTF-8 (\/ and \u escapes decoded, surrogate pairs joined); a lone
//     surrogate declines (RFC 8785 has no form for it; sanitize replaces it);
//   - numbers as ECMAScript's Number::toString. A decimal with at most 15 significant digits
//     in the normal range is the only one of at most 15 digits that rounds to its double
//     (DBL_DIG), so it is the shortest that round-trips and its digits are the output, placed
//     as Number::toString places them: no floating point involved. An integer literal up to
//     2^53 is exact. Anything else (16+ digits, subnormal, overflow) declines.
// Input that is not JSON (or not well-formed UTF-8), nesting past MAX_DEPTH: declines.
// Time: one pass, plus a sort of each object's members (n log n) and one move of its bytes
// per nesting level (bounded by MAX_DEPTH).
#define _GNU_SOURCE
#include "jcs.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define DECLINE (-1)
#define FULL (-2)
#define MAX_DEPTH 128
#define SMALL_SORT 12

/** A member's text in dst: `"key":value` at [start, end), its key's closing quote just before key_end. */
typedef struct {
  uint32_t start, key_end, end;
} member;

typedef struct {
  const uint8_t *s;
  size_t i, n;
  uint8_t *d;
  size_t o, cap;
  member *m;  // members of the objects being written, innermost last
  size_t mtop;
} jcs;

#define TRY(x)          \
  do {                  \
    int r_ = (x);       \
    if (r_ != 0) return r_; \
  } while (0)

static int room(jcs *c, size_t len) { return c->cap - c->o >= len ? 0 : FULL; }

static int put(jcs *c, const void *bytes, size_t len) {
  TRY(room(c, len));
  memcpy(c->d + c->o, bytes, len);
  c->o += len;
  return 0;
}

static int put1(jcs *c, uint8_t b) {
  TRY(room(c, 1));
  c->d[c->o++] = b;
  return 0;
}

static void ws(jcs *c) {
  while (c->i < c->n) {
    uint8_t b = c->s[c->i];
    if (b != ' ' && b != '\t' && b != '\n' && b != '\r') return;
    c->i++;
  }
}

static int hexval(uint8_t h) {
  if (h >= '0' && h <= '9') return h - '0';
  if (h >= 'a' && h <= 'f') return h - 'a' + 10;
  if (h >= 'A' && h <= 'F') return h - 'A' + 10;
  return -1;
}

/** The code unit of the 4 hex digits at p (p has 4 bytes), or -1. */
static int32_t hex4(const uint8_t *p) {
  int32_t u = 0;
  for (int k = 0; k < 4; k++) {
    int h = hexval(p[k]);
    if (h < 0) return -1;
    u = u << 4 | h;
  }
  return u;
}

static const char HEX[] = "0123456789abcdef";

/** \u00XX in lower case, as JSON.stringify writes controls. */
static int put_u_escape(jcs *c, uint32_t u) {
  uint8_t e[6] = {'\\', 'u', HEX[u >> 12], HEX[(u >> 8) & 15], HEX[(u >> 4) & 15], HEX[u & 15]};
  return put(c, e, 6);
}

/** A code point (not a surrogate) as JSON.stringify writes it, in UTF-8. */
static int put_code_point(jcs *c, uint32_t cp) {
  uint8_t e[4];
  if (cp < 0x80) {
    if (cp >= 0x20 && cp != '"' && cp != '\\') return put1(c, (uint8_t)cp);
    char short_escape = cp == '"' ? '"' : cp == '\\' ? '\\' : cp == 8 ? 'b' : cp == 9 ? 't' : cp == 10 ? 'n' : cp == 12 ? 'f' : cp == 13 ? 'r' : 0;
    if (short_escape == 0) return put_u_escape(c, cp);
    e[0] = '\\';
    e[1] = (uint8_t)short_escape;
    return put(c, e, 2);
  }
  if (cp < 0x800) {
    e[0] = 0xc0 | cp >> 6;
    e[1] = 0x80 | (cp & 0x3f);
    return put(c, e, 2);
  }
  if (cp < 0x10000) {
    e[0] = 0xe0 | cp >> 12;
    e[1] = 0x80 | ((cp >> 6) & 0x3f);
    e[2] = 0x80 | (cp & 0x3f);
    return put(c, e, 3);
  }
  e[0] = 0xf0 | cp >> 18;
  e[1] = 0x80 | ((cp >> 12) & 0x3f);
  e[2] = 0x80 | ((cp >> 6) & 0x3f);
  e[3] = 0x80 | (cp & 0x3f);
  return put(c, e, 4);
}

/** The escape after a backslash at s[i]. */
static int escape(jcs *c) {
  const uint8_t *s = c->s;
  if (c->i + 1 >= c->n) return DECLINE;
  uint8_t e = s[c->i + 1];
  c->i += 2;
  switch (e) {
    case '"': return put(c, "\\\"", 2);
    case '\\': return put(c, "\\\\", 2);
    case '/': return put1(c, '/');
    case 'b': return put(c, "\\b", 2);
    case 'f': return put(c, "\\f", 2);
    case 'n': return put(c, "\\n", 2);
    case 'r': return put(c, "\\r", 2);
    case 't': return put(c, "\\t", 2);
    case 'u': break;
    default: return DECLINE;
  }
  if (c->n - c->i < 4) return DECLINE;
  int32_t u = hex4(s + c->i);
  if (u < 0) return DECLINE;
  c->i += 4;
  if (u < 0xd800 || u > 0xdfff) return put_code_point(c, (uint32_t)u);
  if (u <= 0xdbff && c->n - c->i >= 6 && s[c->i] == '\\' && s[c->i + 1] == 'u') {
    int32_t low = hex4(s + c->i + 2);
    if (low >= 0xdc00 && low <= 0xdfff) {
      c->i += 6;
      return put_code_point(c, 0x10000 + ((uint32_t)(u - 0xd800) << 10) + (uint32_t)(low - 0xdc00));
    }
  }
  return DECLINE;  // a lone surrogate
}

/** Length of the well-formed UTF-8 sequence at s[i] (a lead byte >= 0x80), or 0. */
static size_t utf8_seq(const uint8_t *s, size_t i, size_t n) {
  uint8_t b = s[i];
  size_t len;
  uint8_t lo = 0x80, hi = 0xbf;  // bounds of the second byte
  if (b >= 0xc2 && b <= 0xdf) len = 2;
  else if (b >= 0xe0 && b <= 0xef) {
    len = 3;
    if (b == 0xe0) lo = 0xa0;
    if (b == 0xed) hi = 0x9f;  // no surrogates
  } else if (b >= 0xf0 && b <= 0xf4) {
    len = 4;
    if (b == 0xf0) lo = 0x90;
    if (b == 0xf4) hi = 0x8f;
  } else return 0;
  if (n - i < len || s[i + 1] < lo || s[i + 1] > hi) return 0;
  for (size_t k = 2; k < len; k++)
    if ((s[i + k] & 0xc0) != 0x80) return 0;
  return len;
}

/** Copies the run of printable ASCII other than " and \\ at s[i] (most of a string): 16 bytes a step where SSE2 is. */
static void plain_run(jcs *c) {
  const uint8_t *s = c->s;
  size_t i = c->i, o = c->o;
#ifdef __SSE2__
  // As signed bytes, controls and every byte >= 0x80 are less than 0x20: one compare for both.
  // Each 16 bytes are stored whole (past the run's end only into room not yet written).
  const __m128i space = _mm_set1_epi8(0x20), quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
  while (c->n - i >= 16 && c->cap - o >= 16) {
    __m128i v = _mm_loadu_si128((const __m128i *)(s + i));
    _mm_storeu_si128((__m128i *)(c->d + o), v);
    int stop = _mm_movemask_epi8(_mm_or_si128(_mm_cmplt_epi8(v, space), _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash))));
    if (stop != 0) {
      size_t k = (size_t)__builtin_ctz((unsigned)stop);
      c->i = i + k;
      c->o = o + k;
      return;
    }
    i += 16;
    o += 16;
  }
#endif
  while (i < c->n && o < c->cap && s[i] >= 0x20 && s[i] < 0x80 && s[i] != '"' && s[i] != '\\') c->d[o++] = s[i++];
  c->i = i;
  c->o = o;
}

/** A string from its opening quote at s[i]. */
static int string(jcs *c) {
  const uint8_t *s = c->s;
  c->i++;
  TRY(put1(c, '"'));
  for (;;) {
    plain_run(c);
    size_t run = c->i;
    if (run >= c->n) return DECLINE;
    uint8_t b = s[run];
    if (b == '"') {
      c->i++;
      return put1(c, '"');
    }
    if (b == '\\') TRY(escape(c));
    else if (b < 0x20) return DECLINE;  // raw controls are not JSON
    else if (b < 0x80) return FULL;     // plain_run stopped for want of room
    else {
      size_t len = utf8_seq(s, run, c->n);
      if (len == 0) return DECLINE;
      TRY(put(c, s + run, len));
      c->i += len;
    }
  }
}

static int is_digit(jcs *c, size_t i) { return i < c->n && c->s[i] >= '0' && c->s[i] <= '9'; }

/** A number from s[i], in Number::toString's form (see the top of the file). */
static int number(jcs *c) {
  const uint8_t *s = c->s;
  size_t i = c->i;
  int neg = s[i] == '-';
  if (neg) i++;
  size_t ms = i;
  if (!is_digit(c, i)) return DECLINE;
  if (s[i] == '0') i++;
  else
    while (is_digit(c, i)) i++;
  size_t int_len = i - ms, fs = i, frac_len = 0;
  if (i < c->n && s[i] == '.') {
    fs = ++i;
    if (!is_digit(c, i)) return DECLINE;
    while (is_digit(c, i)) i++;
    frac_len = i - fs;
  }
  int64_t exp = 0;
  int has_exp = i < c->n && (s[i] == 'e' || s[i] == 'E');
  if (has_exp) {
    i++;
    int eneg = i < c->n && s[i] == '-';
    if (i < c->n && (s[i] == '-' || s[i] == '+')) i++;
    if (!is_digit(c, i)) return DECLINE;
    for (; is_digit(c, i); i++)
      if (exp < 100000) exp = exp * 10 + (s[i] - '0');  // far past any double's range: saturate
    if (eneg) exp = -exp;
  }
  c->i = i;
  // An integer literal of up to 2^53 is its own form (and -0 is 0).
  if (frac_len == 0 && !has_exp) {
    if (int_len == 1 && s[ms] == '0') return put1(c, '0');
    if (int_len <= 15 || (int_len == 16 && memcmp(s + ms, "9007199254740992", 16) <= 0)) return put(c, s + ms - neg, int_len + neg);
  }
  // The digits int ‖ frac, without the dot: the significant ones are [first, last].
  size_t len = int_len + frac_len;
#define DIGIT(j) ((j) < int_len ? s[ms + (j)] : s[fs + (j) - int_len])
  size_t first = 0, last = len;
  while (first < len && DIGIT(first) == '0') first++;
  if (first == len) return put1(c, '0');  // zero, whatever its sign and exponent
  while (DIGIT(last - 1) == '0') last--;
  size_t k = last - first;
  if (k > 15) return DECLINE;
  char digits[15];
  for (size_t j = 0; j < k; j++) digits[j] = (char)DIGIT(first + j);
#undef DIGIT
  // The value is 0.digits × 10^point; its decimal exponent point-1 kept clear of subnormals and overflow.
  int64_t point = (int64_t)(len - first) + exp - (int64_t)frac_len;
  if (point - 1 < -307 || point - 1 > 307) return DECLINE;
  char out[32];
  size_t o = 0;
  if (neg) out[o++] = '-';
  if ((int64_t)k <= point && point <= 21) {
    memcpy(out + o, digits, k);
    o += k;
    for (int64_t z = k; z < point; z++) out[o++] = '0';
  } else if (0 < point && point <= 21) {
    memcpy(out + o, digits, (size_t)point);
    o += (size_t)point;
    out[o++] = '.';
    memcpy(out + o, digits + point, k - (size_t)point);
    o += k - (size_t)point;
  } else if (-6 < point && point <= 0) {
    out[o++] = '0';
    out[o++] = '.';
    for (int64_t z = point; z < 0; z++) out[o++] = '0';
    memcpy(out + o, digits, k);
    o += k;
  } else {
    out[o++] = digits[0];
    if (k > 1) {
      out[o++] = '.';
      memcpy(out + o, digits + 1, k - 1);
      o += k - 1;
    }
    int64_t e = point - 1;
    out[o++] = 'e';
    out[o++] = e < 0 ? '-' : '+';
    if (e < 0) e = -e;
    char rev[4];
    size_t r = 0;
    do rev[r++] = (char)('0' + e % 10);
    while ((e /= 10) > 0);
    while (r > 0) out[o++] = rev[--r];
  }
  return put(c, out, o);
}

/** Iterates a key's UTF-16 code units from its canonical text (escapes and UTF-8 decoded). */
typedef struct {
  const uint8_t *p;
  size_t i, e;
  int32_t low;  // the low surrogate still to give, or 0
} units;

static int32_t next_unit(units *u) {
  if (u->low) {
    int32_t l = u->low;
    u->low = 0;
    return l;
  }
  if (u->i >= u->e) return -1;
  const uint8_t *p = u->p + u->i;
  if (p[0] < 0x80) {
    if (p[0] != '\\') {
      u->i++;
      return p[0];
    }
    u->i += 2;
    switch (p[1]) {
      case 'b': return 8;
      case 't': return 9;
      case 'n': return 10;
      case 'f': return 12;
      case 'r': return 13;
      case 'u': u->i += 4; return hex4(p + 2);
      default: return p[1];  // \" and \\ (the only other escapes written)
    }
  }
  if (p[0] < 0xe0) {
    u->i += 2;
    return (p[0] & 0x1f) << 6 | (p[1] & 0x3f);
  }
  if (p[0] < 0xf0) {
    u->i += 3;
    return (p[0] & 0x0f) << 12 | (p[1] & 0x3f) << 6 | (p[2] & 0x3f);
  }
  u->i += 4;
  int32_t cp = ((p[0] & 0x07) << 18 | (p[1] & 0x3f) << 12 | (p[2] & 0x3f) << 6 | (p[3] & 0x3f)) - 0x10000;
  u->low = 0xdc00 | (cp & 0x3ff);
  return 0xd800 | cp >> 10;
}

/** Order of two members' keys by UTF-16 code units (RFC 8785 §3.2.3); 0 when equal. */
static int key_cmp(const uint8_t *d, const member *a, const member *b) {
  // Byte by byte while both are at plain ASCII characters (most keys, to their end); from
  // the first other byte on, code unit by code unit.
  size_t i = a->start + 1, j = b->start + 1, ie = a->key_end - 1, je = b->key_end - 1;
  for (; i < ie && j < je; i++, j++) {
    uint8_t x = d[i], y = d[j];
    if (x >= 0x80 || y >= 0x80 || x == '\\' || y == '\\') break;
    if (x != y) return x < y ? -1 : 1;
  }
  units ua = {d, i, ie, 0}, ub = {d, j, je, 0};
  for (;;) {
    int32_t x = next_unit(&ua), y = next_unit(&ub);
    if (x != y) return x < y ? -1 : 1;
    if (x < 0) return 0;
  }
}

static int key_cmp_r(const void *a, const void *b, void *d) { return key_cmp(d, a, b); }

static int value(jcs *c, int depth);

/** The members m[base, top) written unsorted at d[from, o): sorted, and written there again in order. */
static int reorder(jcs *c, size_t base, size_t from) {
  member *m = c->m + base;
  size_t count = c->mtop - base;
  if (count <= SMALL_SORT) {
    for (size_t j = 1; j < count; j++) {
      member x = m[j];
      size_t q = j;
      while (q > 0 && key_cmp(c->d, &m[q - 1], &x) > 0) {
        m[q] = m[q - 1];
        q--;
      }
      m[q] = x;
    }
  } else qsort_r(m, count, sizeof *m, key_cmp_r, c->d);
  for (size_t j = 1; j < count; j++)
    if (key_cmp(c->d, &m[j - 1], &m[j]) == 0) return DECLINE;
  // Written in order past the end, then moved back in one piece.
  size_t len = c->o - from;
  TRY(room(c, len));
  uint8_t *out = c->d + c->o;
  for (size_t j = 0; j < count; j++) {
    if (j > 0) *out++ = ',';
    memcpy(out, c->d + m[j].start, m[j].end - m[j].start);
    out += m[j].end - m[j].start;
  }
  memmove(c->d + from, c->d + c->o, len);
  return 0;
}

static int object(jcs *c, int depth) {
  c->i++;
  TRY(put1(c, '{'));
  ws(c);
  if (c->i < c->n && c->s[c->i] == '}') {
    c->i++;
    return put1(c, '}');
  }
  size_t base = c->mtop, from = c->o;
  int sorted = 1;
  for (;;) {
    ws(c);
    if (c->i >= c->n || c->s[c->i] != '"') return DECLINE;
    member *mem = &c->m[c->mtop++];  // room: every member takes at least 4 bytes of the text
    mem->start = (uint32_t)c->o;
    TRY(string(c));
    mem->key_end = (uint32_t)c->o;
    ws(c);
    if (c->i >= c->n || c->s[c->i] != ':') return DECLINE;
    c->i++;
    TRY(put1(c, ':'));
    TRY(value(c, depth + 1));
    mem = &c->m[c->mtop - 1];  // nested objects may have used the entries above it
    mem->end = (uint32_t)c->o;
    if (c->mtop - base > 1) {
      int order = key_cmp(c->d, mem - 1, mem);
      if (order == 0) return DECLINE;
      if (order > 0) sorted = 0;
    }
    ws(c);
    if (c->i >= c->n) return DECLINE;
    uint8_t b = c->s[c->i++];
    if (b == '}') break;
    if (b != ',') return DECLINE;
    TRY(put1(c, ','));
  }
  if (!sorted) TRY(reorder(c, base, from));
  c->mtop = base;
  return put1(c, '}');
}

static int array(jcs *c, int depth) {
  c->i++;
  TRY(put1(c, '['));
  ws(c);
  if (c->i < c->n && c->s[c->i] == ']') {
    c->i++;
    return put1(c, ']');
  }
  for (;;) {
    TRY(value(c, depth + 1));
    ws(c);
    if (c->i >= c->n) return DECLINE;
    uint8_t b = c->s[c->i++];
    if (b == ']') return put1(c, ']');
    if (b != ',') return DECLINE;
    TRY(put1(c, ','));
  }
}

static int literal(jcs *c, const char *word, size_t len) {
  if (c->n - c->i < len || memcmp(c->s + c->i, word, len) != 0) return DECLINE;
  c->i += len;
  return put(c, word, len);
}

static int value(jcs *c, int depth) {
  ws(c);
  if (c->i >= c->n) return DECLINE;
  switch (c->s[c->i]) {
    case '{': return depth >= MAX_DEPTH ? DECLINE : object(c, depth);
    case '[': return depth >= MAX_DEPTH ? DECLINE : array(c, depth);
    case '"': return string(c);
    case 't': return literal(c, "true", 4);
    case 'f': return literal(c, "false", 5);
    case 'n': return literal(c, "null", 4);
    default: return number(c);
  }
}

/** The canonical form of text[0, n) written at dst[pos, cap): its end, DECLINE or FULL. */
static int64_t canonical(const uint8_t *text, size_t n, uint8_t *dst, size_t pos, size_t cap) {
  if (cap > UINT32_MAX) cap = UINT32_MAX;  // members keep 32-bit offsets
  if (pos > cap) return FULL;
  member small[256];
  size_t most = n / 4 + 2;  // each member takes at least 4 bytes of the text (`"":0`)
  member *m = most <= 256 ? small : malloc(most * sizeof *m);
  if (m == NULL) return DECLINE;
  jcs c = {text, 0, n, dst, pos, cap, m, 0};
  int r = value(&c, 0);
  if (r == 0) {
    ws(&c);
    if (c.i != n) r = DECLINE;
  }
  if (m != small) free(m);
  return r != 0 ? r : (int64_t)c.o;
}

static napi_value jcs_from_json(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  void *src, *dst;
  size_t srcLen, dstLen;
  int64_t start, end, pos;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 5 ||
      napi_get_typedarray_info(env, argv[0], NULL, &srcLen, &src, NULL, NULL) != napi_ok ||
      napi_get_value_int64(env, argv[1], &start) != napi_ok || napi_get_value_int64(env, argv[2], &end) != napi_ok ||
      napi_get_typedarray_info(env, argv[3], NULL, &dstLen, &dst, NULL, NULL) != napi_ok || napi_get_value_int64(env, argv[4], &pos) != napi_ok ||
      start < 0 || start > end || (uint64_t)end > srcLen || pos < 0 || (uint64_t)pos > dstLen) {
    napi_throw_type_error(env, NULL, "jcsFromJson(src, start, end, dst, pos): two Uint8Arrays and positions within them");
    return NULL;
  }
  napi_value result;
  napi_create_int64(env, canonical((const uint8_t *)src + start, (size_t)(end - start), dst, (size_t)pos, dstLen), &result);
  return result;
}

void jcs_define(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"jcsFromJson", NULL, jcs_from_json, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
