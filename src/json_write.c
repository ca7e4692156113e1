/* JSON text from untrusted bytes (see json_write.h). */
#include "json_write.h"

#include <time.h>

size_t json_utf8_seq_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	size_t need;
	unsigned char lo = 0x80, hi = 0xbf; /* range of the second byte */

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* beyond U+10FFFF */
	} else {
		return 0;
	}
	if (n < need || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < need; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return need;
}

/* Whether the UTF-8 sequence is U+2028 or U+2029 (line terminators in
 * JavaScript before ES2019). */
static bool js_line_terminator(const unsigned char *p, size_t seq)
{
	return seq == 3 && p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9);
}

void json_write_string(struct strbuf *out, const void *bytes, size_t len, unsigned flags)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = bytes;
	size_t run = 0; /* bytes[i - run, i) pass through unchanged */
	size_t i = 0;

	if (!len) { /* bytes may be NULL then */
		strbuf_append(out, "\"\"", 2);
		return;
	}
	strbuf_append(out, "\"", 1);
	while (i < len) {
		unsigned char c = p[i];
		size_t seq = json_utf8_seq_len(p + i, len - i);
		char esc[8];
		size_t esc_len = 0;

		if (seq == 0) {
			memcpy(esc, "\\ufffd", 6);
			esc_len = 6;
			seq = 1;
		} else if (seq == 1) {
			if (c == '"' || c == '\\') {
				esc[0] = '\\';
				esc[1] = (char)c;
				esc_len = 2;
			} else if (c == '\n') {
				memcpy(esc, "\\n", 2);
				esc_len = 2;
			} else if (c == '\r') {
				memcpy(esc, "\\r", 2);
				esc_len = 2;
			} else if (c == '\t') {
				memcpy(esc, "\\t", 2);
				esc_len = 2;
			} else if (c < 0x20 || c == 0x7f ||
				   ((flags & JSON_W_SCRIPT_SAFE) && (c == '<' || c == '>' || c == '&'))) {
				memcpy(esc, "\\u00", 4);
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 15];
				esc_len = 6;
			}
		} else if ((flags & JSON_W_SCRIPT_SAFE) && js_line_terminator(p + i, seq)) {
			memcpy(esc, p[i + 2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
			esc_len = 6;
		}
		if (esc_len) {
			strbuf_append(out, p + i - run, run);
			strbuf_append(out, esc, esc_len);
			run = 0;
		} else {
			run += seq;
		}
		i += seq;
	}
	strbuf_append(out, p + i - run, run);
	strbuf_append(out, "\"", 1);
}

void json_write_string_cut(struct strbuf *out, const void *bytes, size_t len, size_t max,
			   unsigned flags)
{
	const unsigned char *p = bytes;

	if (len > max) {
		size_t back = 0;

		len = max;
		/* a sequence cut by the limit is dropped whole (at most 3 bytes) */
		while (back < 3 && back < len && (p[len - back - 1] & 0xc0) == 0x80)
			back++;
		if (back < len && p[len - back - 1] >= 0xc0 &&
		    json_utf8_seq_len(p + len - back - 1, back + 1) == 0)
			len -= back + 1;
	}
	json_write_string(out, p, len, flags);
}

void json_write_time_ms(struct strbuf *out, uint64_t unix_ms)
{
	time_t secs = (time_t)(unix_ms / 1000u);
	struct tm tm;
	char text[40];
	size_t n;

	if (!gmtime_r(&secs, &tm)) {
		strbuf_puts(out, "null");
		return;
	}
	n = strftime(text, sizeof(text), "\"%Y-%m-%dT%H:%M:%S", &tm);
	strbuf_append(out, text, n);
	strbuf_printf(out, ".%03uZ\"", (unsigned)(unix_ms % 1000u));
}
