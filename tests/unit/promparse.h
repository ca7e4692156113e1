/* A strict parser for the Prometheus text exposition format 0.0.4, for
 * tests: it rejects what a lenient scraper would let through (samples
 * before their TYPE, a family split in two, duplicate series, bad escapes,
 * histograms whose buckets are not cumulative or end without +Inf) and
 * then answers "what is the value of this series". Header-only. */
#ifndef SPOA_MIRROR_TEST_PROMPARSE_H
#define SPOA_MIRROR_TEST_PROMPARSE_H

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROM_MAX_LABELS 4
#define PROM_NAME_MAX 128
#define PROM_VALUE_MAX 256

struct prom_sample {
	char name[PROM_NAME_MAX];
	int n_labels;
	char label[PROM_MAX_LABELS][PROM_NAME_MAX];
	char value_text[PROM_MAX_LABELS][PROM_VALUE_MAX]; /* unescaped label values */
	double value;
	size_t family;
};

struct prom_family {
	char name[PROM_NAME_MAX];
	char type[16];
	char help[512];
	bool has_help, has_type, has_samples;
};

struct prom_doc {
	struct prom_family *families;
	size_t n_families;
	struct prom_sample *samples;
	size_t n_samples;
	char error[256];
};

static inline bool prom_name_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
	       (!first && c >= '0' && c <= '9');
}

/* Reads a metric name at *p into out. */
static inline bool prom_read_name(const char **p, char *out, bool colon_ok)
{
	size_t n = 0;

	if (!prom_name_char(**p, true) || (!colon_ok && **p == ':'))
		return false;
	while (prom_name_char(**p, n == 0) && (colon_ok || **p != ':')) {
		if (n + 1 >= PROM_NAME_MAX)
			return false;
		out[n++] = *(*p)++;
	}
	out[n] = '\0';
	return true;
}

static inline bool prom_parse_value(const char *s, const char *end, double *v)
{
	char buf[64];
	char *stop;
	size_t n = (size_t)(end - s);

	if (!n || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (!strcmp(buf, "+Inf")) {
		*v = INFINITY;
		return true;
	}
	if (!strcmp(buf, "-Inf")) {
		*v = -INFINITY;
		return true;
	}
	if (!strcmp(buf, "NaN")) {
		*v = NAN;
		return true;
	}
	*v = strtod(buf, &stop);
	return *stop == '\0' && !isinf(*v) && !isnan(*v);
}

static inline int prom_fail(struct prom_doc *d, unsigned line, const char *why)
{
	snprintf(d->error, sizeof(d->error), "line %u: %s", line, why);
	return -1;
}

static inline struct prom_family *prom_family_get(struct prom_doc *d, const char *name, bool create)
{
	for (size_t i = 0; i < d->n_families; i++)
		if (!strcmp(d->families[i].name, name))
			return &d->families[i];
	if (!create)
		return NULL;
	d->families = realloc(d->families, (d->n_families + 1) * sizeof(*d->families));
	memset(&d->families[d->n_families], 0, sizeof(*d->families));
	snprintf(d->families[d->n_families].name, PROM_NAME_MAX, "%s", name);
	return &d->families[d->n_families++];
}

/* The family a sample name belongs to: itself, or for histograms the name
 * without _bucket, _sum or _count. */
static inline struct prom_family *prom_family_of(struct prom_doc *d, const char *sample)
{
	static const char *const suffixes[] = { "_bucket", "_sum", "_count" };
	struct prom_family *f = prom_family_get(d, sample, false);

	if (f && strcmp(f->type, "histogram"))
		return f;
	for (int i = 0; i < 3; i++) {
		size_t n = strlen(sample), s = strlen(suffixes[i]);
		char base[PROM_NAME_MAX];

		if (n > s && !strcmp(sample + n - s, suffixes[i])) {
			memcpy(base, sample, n - s);
			base[n - s] = '\0';
			f = prom_family_get(d, base, false);
			if (f && !strcmp(f->type, "histogram"))
				return f;
		}
	}
	return NULL;
}

static inline bool prom_same_labels(const struct prom_sample *a, const struct prom_sample *b,
				    const char *except)
{
	int na = 0, nb = 0;

	for (int i = 0; i < a->n_labels; i++)
		na += !except || strcmp(a->label[i], except);
	for (int i = 0; i < b->n_labels; i++)
		nb += !except || strcmp(b->label[i], except);
	if (na != nb)
		return false;
	for (int i = 0; i < a->n_labels; i++) {
		bool found = false;

		if (except && !strcmp(a->label[i], except))
			continue;
		for (int j = 0; j < b->n_labels; j++)
			if (!strcmp(a->label[i], b->label[j]) &&
			    !strcmp(a->value_text[i], b->value_text[j]))
				found = true;
		if (!found)
			return false;
	}
	return true;
}

static inline const char *prom_label(const struct prom_sample *s, const char *name)
{
	for (int i = 0; i < s->n_labels; i++)
		if (!strcmp(s->label[i], name))
			return s->value_text[i];
	return NULL;
}

static inline int prom_parse_sample(struct prom_doc *d, unsigned line, const char *p,
				    const char *end, size_t *current)
{
	struct prom_sample s;
	struct prom_family *f;

	memset(&s, 0, sizeof(s));
	if (!prom_read_name(&p, s.name, true))
		return prom_fail(d, line, "bad metric name");
	if (*p == '{') {
		p++;
		while (*p != '}') {
			size_t n = 0;

			if (s.n_labels == PROM_MAX_LABELS)
				return prom_fail(d, line, "too many labels");
			if (!prom_read_name(&p, s.label[s.n_labels], false))
				return prom_fail(d, line, "bad label name");
			if (!strncmp(s.label[s.n_labels], "__", 2))
				return prom_fail(d, line, "reserved label name");
			for (int i = 0; i < s.n_labels; i++)
				if (!strcmp(s.label[i], s.label[s.n_labels]))
					return prom_fail(d, line, "label given twice");
			if (p[0] != '=' || p[1] != '"')
				return prom_fail(d, line, "label without =\"");
			p += 2;
			while (*p != '"') {
				char c = *p++;

				if (p > end || c == '\n')
					return prom_fail(d, line, "unterminated label value");
				if (c == '\\') {
					c = *p++;
					if (c == 'n')
						c = '\n';
					else if (c != '\\' && c != '"')
						return prom_fail(d, line, "bad escape in label value");
				}
				if (n + 1 >= PROM_VALUE_MAX)
					return prom_fail(d, line, "label value too long");
				s.value_text[s.n_labels][n++] = c;
			}
			p++;
			s.n_labels++;
			if (*p == ',')
				p++;
			else if (*p != '}')
				return prom_fail(d, line, "expected , or } after a label");
		}
		p++;
	}
	if (*p != ' ')
		return prom_fail(d, line, "expected one space before the value");
	p++;
	{
		const char *sp = memchr(p, ' ', (size_t)(end - p));

		/* an optional timestamp follows; we never write one */
		if (sp)
			return prom_fail(d, line, "unexpected timestamp or trailing space");
		if (!prom_parse_value(p, end, &s.value))
			return prom_fail(d, line, "bad sample value");
	}
	f = prom_family_of(d, s.name);
	if (!f || !f->has_type || !f->has_help)
		return prom_fail(d, line, "sample without HELP and TYPE before it");
	s.family = (size_t)(f - d->families);
	if (*current != s.family)
		return prom_fail(d, line, "sample outside its family's block");
	if ((!strcmp(f->type, "counter") && s.value < 0))
		return prom_fail(d, line, "negative counter");
	if (!strcmp(f->type, "histogram") && !strcmp(s.name + strlen(f->name), "_bucket") &&
	    !prom_label(&s, "le"))
		return prom_fail(d, line, "bucket without le");
	for (size_t i = 0; i < d->n_samples; i++)
		if (!strcmp(d->samples[i].name, s.name) && prom_same_labels(&d->samples[i], &s, NULL))
			return prom_fail(d, line, "duplicate series");
	f->has_samples = true;
	d->samples = realloc(d->samples, (d->n_samples + 1) * sizeof(s));
	d->samples[d->n_samples++] = s;
	return 0;
}

/* Each histogram series: buckets in increasing le, cumulative, ending with
 * +Inf, and _count equal to the +Inf bucket, _sum present. */
static inline int prom_check_histograms(struct prom_doc *d)
{
	for (size_t i = 0; i < d->n_samples; i++) {
		const struct prom_sample *b = &d->samples[i];
		const struct prom_family *f = &d->families[b->family];
		char want[PROM_NAME_MAX + 8];
		double last_le = -INFINITY, last_count = 0, inf_count = -1;
		bool first = true, have_sum = false, have_count = false;

		if (strcmp(f->type, "histogram"))
			continue;
		snprintf(want, sizeof(want), "%s_bucket", f->name);
		if (strcmp(b->name, want))
			continue;
		/* only start at the first bucket of a label set */
		for (size_t j = 0; j < i; j++)
			if (!strcmp(d->samples[j].name, want) &&
			    prom_same_labels(&d->samples[j], b, "le"))
				first = false;
		if (!first)
			continue;
		for (size_t j = i; j < d->n_samples; j++) {
			const struct prom_sample *s = &d->samples[j];
			double le;
			const char *lev;

			if (s->family != b->family || !prom_same_labels(s, b, "le"))
				continue;
			if (!strcmp(s->name, want)) {
				lev = prom_label(s, "le");
				if (!prom_parse_value(lev, lev + strlen(lev), &le))
					return prom_fail(d, 0, "bad le value");
				if (le <= last_le)
					return prom_fail(d, 0, "buckets not in increasing le");
				if (s->value < last_count)
					return prom_fail(d, 0, "bucket counts not cumulative");
				last_le = le;
				last_count = s->value;
				if (isinf(le))
					inf_count = s->value;
			} else if (!strcmp(s->name + strlen(f->name), "_sum")) {
				have_sum = true;
			} else if (!strcmp(s->name + strlen(f->name), "_count")) {
				have_count = true;
				if (s->value != inf_count)
					return prom_fail(d, 0, "_count differs from the +Inf bucket");
			}
		}
		if (inf_count < 0)
			return prom_fail(d, 0, "histogram without a +Inf bucket");
		if (!have_sum || !have_count)
			return prom_fail(d, 0, "histogram without _sum or _count");
	}
	return 0;
}

/* Parses text; 0, or -1 with d->error set. */
static inline int prom_parse(struct prom_doc *d, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	unsigned line = 0;
	size_t current = (size_t)-1;

	memset(d, 0, sizeof(*d));
	if (len == 0 || text[len - 1] != '\n')
		return prom_fail(d, 0, "text does not end with a newline");
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		char name[PROM_NAME_MAX];

		line++;
		if (nl == p)
			return prom_fail(d, line, "empty line");
		if (!strncmp(p, "# HELP ", 7) || !strncmp(p, "# TYPE ", 7)) {
			bool help = p[2] == 'H';
			const char *q = p + 7;
			struct prom_family *f;

			if (!prom_read_name(&q, name, true) || *q != ' ')
				return prom_fail(d, line, "bad name in HELP/TYPE");
			q++;
			f = prom_family_get(d, name, true);
			if (f->has_samples)
				return prom_fail(d, line, "HELP/TYPE after the family's samples");
			current = (size_t)(f - d->families);
			if (help) {
				if (f->has_help)
					return prom_fail(d, line, "second HELP");
				for (const char *c = q; c < nl; c++)
					if (*c == '\\' && c[1] != '\\' && c[1] != 'n')
						return prom_fail(d, line, "bad escape in HELP");
				snprintf(f->help, sizeof(f->help), "%.*s", (int)(nl - q), q);
				f->has_help = true;
			} else {
				static const char *const types[] = { "counter", "gauge", "histogram",
								     "summary", "untyped" };
				bool ok = false;

				if (f->has_type)
					return prom_fail(d, line, "second TYPE");
				for (int i = 0; i < 5; i++)
					if ((size_t)(nl - q) == strlen(types[i]) &&
					    !memcmp(q, types[i], (size_t)(nl - q)))
						ok = true;
				if (!ok)
					return prom_fail(d, line, "unknown TYPE");
				snprintf(f->type, sizeof(f->type), "%.*s", (int)(nl - q), q);
				f->has_type = true;
			}
		} else if (*p == '#') {
			return prom_fail(d, line, "comment that is neither HELP nor TYPE");
		} else if (prom_parse_sample(d, line, p, nl, &current) < 0) {
			return -1;
		}
		p = nl + 1;
	}
	for (size_t i = 0; i < d->n_families; i++)
		if (!d->families[i].has_type || !d->families[i].has_help)
			return prom_fail(d, 0, "family without both HELP and TYPE");
	return prom_check_histograms(d);
}

static inline void prom_free(struct prom_doc *d)
{
	free(d->families);
	free(d->samples);
	memset(d, 0, sizeof(*d));
}

/* The sample `name` whose labels are exactly those given as pairs
 * (label, value, label, value, ..., NULL); NULL when absent. */
static inline const struct prom_sample *prom_find(const struct prom_doc *d, const char *name, ...)
{
	struct prom_sample want;
	va_list ap;
	const char *l;

	memset(&want, 0, sizeof(want));
	va_start(ap, name);
	while ((l = va_arg(ap, const char *)) != NULL && want.n_labels < PROM_MAX_LABELS) {
		snprintf(want.label[want.n_labels], PROM_NAME_MAX, "%s", l);
		snprintf(want.value_text[want.n_labels], PROM_VALUE_MAX, "%s",
			 va_arg(ap, const char *));
		want.n_labels++;
	}
	va_end(ap);
	for (size_t i = 0; i < d->n_samples; i++)
		if (!strcmp(d->samples[i].name, name) && prom_same_labels(&d->samples[i], &want, NULL))
			return &d->samples[i];
	return NULL;
}

static inline const struct prom_family *prom_family(const struct prom_doc *d, const char *name)
{
	for (size_t i = 0; i < d->n_families; i++)
		if (!strcmp(d->families[i].name, name))
			return &d->families[i];
	return NULL;
}

#endif
