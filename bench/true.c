// A static /bin/true for the `minimal` profile, which binds no host files.
int main(void) { return 0; }
