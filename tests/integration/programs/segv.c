// Dereferences a null pointer: verdict signal, signal 11 (SIGSEGV), sandboxrun exit status 139; judged on the report's signal fields.
#include <stdio.h>

int main(void) {
    volatile int* p = NULL;
    *p = 1;
    puts("survived a null dereference");
    return 0;
}
