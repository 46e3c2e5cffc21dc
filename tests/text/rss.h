/* rss.h - the resident memory of this process in kB (VmRSS of /proc/self/status), or -1: for
 * test tools that report what loading a dictionary costs. */
#ifndef KK_TEST_RSS_H
#define KK_TEST_RSS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

#endif
