/* deb822: a small paragraph parser; values are copied out of the text. */
#include "deb822.h"

#include <strings.h>

static bool is_blank_line(const char *s, const char *end)
{
	for (; s < end && *s != '\n'; s++)
		if (*s != ' ' && *s != '\t' && *s != '\r')
			return false;
	return true;
}

static const char *line_end(const char *s, const char *end)
{
	const char *nl = memchr(s, '\n', (size_t)(end - s));
	return nl ? nl : end;
}

static void add_field(struct deb822 *p, const char *name, size_t nlen, const char *val, size_t vlen)
{
	if (p->n == p->alloc) {
		p->alloc = p->alloc ? p->alloc * 2 : 16;
		p->f = xrealloc(p->f, p->alloc * sizeof(*p->f));
	}
	p->f[p->n].name = xstrndup(name, nlen);
	p->f[p->n].value = xstrndup(val, vlen);
	p->n++;
}

static void append_continuation(struct deb822 *p, const char *s, size_t n)
{
	struct deb822_field *f = &p->f[p->n - 1];
	size_t old = strlen(f->value);
	while (n && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	f->value = xrealloc(f->value, old + n + 2);
	f->value[old] = '\n';
	memcpy(f->value + old + 1, s, n);
	f->value[old + 1 + n] = '\0';
}

int deb822_parse(const char *text, size_t len, size_t *pos, struct deb822 *out)
{
	const char *s = text + *pos, *end = text + len;

	while (s < end && (is_blank_line(s, end) || *s == '#')) {
		s = line_end(s, end);
		if (s < end)
			s++;
	}
	if (s >= end) {
		*pos = len;
		return 0;
	}
	while (s < end && !is_blank_line(s, end)) {
		const char *e = line_end(s, end);
		if (*s == '#') {
			/* comment line inside a paragraph */
		} else if (*s == ' ' || *s == '\t') {
			if (!out->n)
				return -XB_EPARSE;
			append_continuation(out, s, (size_t)(e - s));
		} else {
			const char *colon = memchr(s, ':', (size_t)(e - s));
			if (!colon || colon == s)
				return -XB_EPARSE;
			const char *v = colon + 1, *ve = e;
			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t' || ve[-1] == '\r'))
				ve--;
			add_field(out, s, (size_t)(colon - s), v, (size_t)(ve - v));
		}
		s = e < end ? e + 1 : end;
	}
	*pos = (size_t)(s - text);
	return 1;
}

const char *deb822_get(const struct deb822 *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcasecmp(p->f[i].name, name))
			return p->f[i].value;
	return NULL;
}

void deb822_set(struct deb822 *p, const char *name, const char *value)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcasecmp(p->f[i].name, name)) {
			free(p->f[i].value);
			p->f[i].value = xstrdup(value);
			return;
		}
	add_field(p, name, strlen(name), value, strlen(value));
}

void deb822_unset(struct deb822 *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcasecmp(p->f[i].name, name)) {
			free(p->f[i].name);
			free(p->f[i].value);
			memmove(&p->f[i], &p->f[i + 1], (p->n - i - 1) * sizeof(p->f[i]));
			p->n--;
			return;
		}
}

void deb822_write(const struct deb822 *p, struct strbuf *out)
{
	for (size_t i = 0; i < p->n; i++) {
		strbuf_addstr(out, p->f[i].name);
		strbuf_addch(out, ':');
		if (p->f[i].value[0] && p->f[i].value[0] != '\n')
			strbuf_addch(out, ' ');
		strbuf_addstr(out, p->f[i].value);
		strbuf_addch(out, '\n');
	}
}

void deb822_release(struct deb822 *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->f[i].name);
		free(p->f[i].value);
	}
	free(p->f);
	*p = (struct deb822)DEB822_INIT;
}

char *deb822_next_line(const char *value, size_t *pos)
{
	for (;;) {
		const char *s = value + *pos;
		if (!*s)
			return NULL;
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);
		*pos += n + (nl ? 1 : 0);
		char *line = xstrndup(s, n);
		char *t = str_trim(line);
		if (*t) {
			memmove(line, t, strlen(t) + 1);
			return line;
		}
		free(line);
	}
}
