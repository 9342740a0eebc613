#include "harness.h"
#include "buf.h"
#include "strvec.h"
#include "util.h"

#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

TEST(buf_grows_and_formats)
{
	struct buf b = BUF_INIT;
	CHECK(b.len == 0 && b.data[0] == '\0');
	for (int i = 0; i < 1000; i++)
		buf_addf(&b, "%d,", i);
	CHECK(b.len == strlen(b.data));
	CHECK(!strncmp(b.data, "0,1,2,", 6));
	CHECK_CONTAINS(b.data, ",999,");
	buf_truncate(&b, 2);
	CHECK_STR(b.data, "0,");
	buf_release(&b);
	CHECK(b.data[0] == '\0');
}

TEST(buf_json_escapes_controls)
{
	struct buf b = BUF_INIT;
	buf_add_json_escaped(&b, "a\"b\\c\n\x01");
	CHECK_STR(b.data, "a\\\"b\\\\c\\n\\u0001");
	buf_release(&b);
}

TEST(buf_utf8_is_checked_and_repaired)
{
	/* valid: ASCII, 2, 3 and 4 bytes */
	CHECK(buf_utf8_len("a", 1) == 1);
	CHECK(buf_utf8_len("\xc3\xa9", 2) == 2);
	CHECK(buf_utf8_len("\xe2\x80\xae", 3) == 3);
	CHECK(buf_utf8_len("\xf0\x9f\x90\xa7", 4) == 4);
	/* invalid: stray continuation, overlong, surrogate, past U+10FFFF, cut short */
	CHECK(buf_utf8_len("\x80", 1) == 0);
	CHECK(buf_utf8_len("\xc0\xaf", 2) == 0);
	CHECK(buf_utf8_len("\xe0\x80\xaf", 3) == 0);
	CHECK(buf_utf8_len("\xed\xa0\x80", 3) == 0);
	CHECK(buf_utf8_len("\xf4\x90\x80\x80", 4) == 0);
	CHECK(buf_utf8_len("\xe2\x80", 2) == 0);
	CHECK(buf_utf8_len("\xc3(", 2) == 0);

	struct buf b = BUF_INIT;
	buf_add_json_escaped(&b, "Andr\xe9 \xc3\xa9\xff\x1b[2J\x7f");
	CHECK_STR(b.data, "Andr\xef\xbf\xbd \xc3\xa9\xef\xbf\xbd\\u001b[2J\\u007f");
	buf_reset(&b);
	buf_add_xml_escaped(&b, "<a\x01\xfe\xc2\x9b\xef\xbf\xbe&\xc3\xa9>");
	CHECK_STR(b.data, "&lt;a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd&amp;\xc3\xa9&gt;");
	buf_release(&b);
}

TEST(buf_printable_defuses_terminal_controls)
{
	struct buf b = BUF_INIT;
	/* title change (OSC 0), clear screen, OSC 8 link, CR overwrite, BEL, a bidi override, C1 CSI */
	const char *evil = "\x1b]0;pwned\x07 \x1b[2J \x1b]8;;http://x\x1b\\y\x1b]8;;\x1b\\ a\rb \xe2\x80\xae \xc2\x9b\n";
	CHECK(buf_add_printable(&b, evil, strlen(evil), 0) == strlen(evil));
	CHECK(!strchr(b.data, 0x1b) && !strchr(b.data, '\r') && !strchr(b.data, 0x07));
	CHECK_STR(b.data, "\\x1b]0;pwned\\x07 \\x1b[2J \\x1b]8;;http://x\\x1b\\y\\x1b]8;;\\x1b\\ a\\x0db "
			  "\\u202e \\u009b\n");
	/* what is harmless stays as it is: tabs, newlines, accents, CJK */
	buf_reset(&b);
	const char *fine = "Jos\xc3\xa9\tM\xc3\xbcller \xe4\xb8\xad\n";
	buf_add_printable(&b, fine, strlen(fine), 0);
	CHECK_STR(b.data, fine);
	/* a character split across two writes is kept whole with 'partial' */
	buf_reset(&b);
	CHECK(buf_add_printable(&b, "ok \xc3", 4, 1) == 3);
	CHECK_STR(b.data, "ok ");
	CHECK(buf_add_printable(&b, "\xc3\xa9", 2, 1) == 2);
	CHECK_STR(b.data, "ok \xc3\xa9");
	/* ... and shown as a stray byte without it */
	buf_reset(&b);
	CHECK(buf_add_printable(&b, "ok \xc3", 4, 0) == 4);
	CHECK_STR(b.data, "ok \\xc3");
	buf_release(&b);
}

TEST(buf_file_round_trip_and_missing_file)
{
	struct buf b = BUF_INIT, r = BUF_INIT;
	char path[] = "/tmp/kpipe-buf-XXXXXX";
	int fd = mkstemp(path);
	close(fd);
	buf_adds(&b, "hello\nworld\n");
	CHECK(buf_write_file(&b, path) == 0);
	CHECK(buf_read_file(&r, path) == 0);
	CHECK_STR(r.data, b.data);
	unlink(path);
	CHECK(buf_read_file(&r, path) == -2); /* -ENOENT, buffer unchanged */
	CHECK_STR(r.data, "hello\nworld\n");
	buf_release(&b);
	buf_release(&r);
}

TEST(buf_write_file_is_all_or_nothing)
{
	struct buf b = BUF_INIT, r = BUF_INIT;
	char dir[] = "/tmp/kpipe-buf-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	struct buf path = BUF_INIT;
	buf_addf(&path, "%s/result.json", dir);
	buf_adds(&b, "{\"old\": 1}\n");
	CHECK(buf_write_file(&b, path.data) == 0);
	/* a file that cannot be made leaves the old one whole, and no temporary file */
	CHECK(chmod(dir, 0500) == 0);
	buf_reset(&b);
	buf_adds(&b, "{\"new\": 2}\n");
	if (geteuid() != 0) {
		CHECK(buf_write_file(&b, path.data) < 0);
		CHECK(buf_read_file(&r, path.data) == 0);
		CHECK_STR(r.data, "{\"old\": 1}\n");
	} else {
		printf("# buf: as root a read-only directory does not stop the write: that part is not checked (the full-disk integration test is)\n");
	}
	CHECK(chmod(dir, 0700) == 0);
	CHECK(buf_write_file(&b, path.data) == 0);
	buf_reset(&r);
	CHECK(buf_read_file(&r, path.data) == 0);
	CHECK_STR(r.data, "{\"new\": 2}\n");
	struct stat st;
	CHECK(stat(path.data, &st) == 0 && (st.st_mode & 0777) == 0644);
	DIR *d = opendir(dir);
	size_t files = 0;
	for (struct dirent *de; d && (de = readdir(d));)
		files += de->d_name[0] != '.';
	if (d)
		closedir(d);
	CHECK(files == 1);
	unlink(path.data);
	rmdir(dir);
	CHECK(buf_write_file(&b, path.data) == -2); /* the directory is gone: -ENOENT */
	buf_release(&path);
	buf_release(&b);
	buf_release(&r);
}

TEST(strvec_split_and_null_termination)
{
	struct strvec sv = STRVEC_INIT;
	strvec_split(&sv, " x86_64, arm64\tfoo,,");
	CHECK(sv.nr == 3);
	CHECK_STR(sv.v[1], "arm64");
	CHECK(sv.v[3] == NULL);
	CHECK(strvec_contains(&sv, "foo"));
	CHECK(!strvec_contains(&sv, "bar"));
	strvec_clear(&sv);
	CHECK(sv.nr == 0 && sv.v[0] == NULL);
}

TEST(util_slug_is_safe_and_cut_at_words)
{
	char *s = util_slug("[PATCH] mm/memory: Fix THE thing!", 60);
	CHECK_STR(s, "patch-mm-memory-fix-the-thing");
	free(s);
	s = util_slug("mm/memory: factor out batched uffd-wp marker install", 40);
	CHECK_STR(s, "mm-memory-factor-out-batched-uffd-wp");
	free(s);
	s = util_slug("///", 10);
	CHECK_STR(s, "series");
	free(s);
}

const struct unit_test buf_tests[] = {
	{ "buf: a file is written all or nothing", buf_write_file_is_all_or_nothing },
	{ "buf grows and formats", buf_grows_and_formats },
	{ "buf json escapes controls", buf_json_escapes_controls },
	{ "buf: invalid UTF-8 is found, and JSON and XML get U+FFFD for it", buf_utf8_is_checked_and_repaired },
	{ "buf: terminal control sequences in untrusted text are shown, not obeyed",
	  buf_printable_defuses_terminal_controls },
	{ "buf file round trip and missing file", buf_file_round_trip_and_missing_file },
	{ "strvec split and NULL termination", strvec_split_and_null_termination },
	{ "util_slug is safe and cut at words", util_slug_is_safe_and_cut_at_words },
	{ NULL, NULL },
};
