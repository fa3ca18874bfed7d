// Exits with status 3: verdict runtime_error, exit_code 3, sandboxrun exit status 3; judged on the report and sandboxrun's own status.
int main(void) {
    return 3;
}
