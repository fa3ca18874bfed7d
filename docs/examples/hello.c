#include <stdio.h>

int main(void) {
    char name[64] = "world";
    if (scanf("%63s", name) != 1) { /* keep the default */ }
    printf("hello, %s\n", name);
    return 0;
}
