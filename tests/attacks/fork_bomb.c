// Forks forever in every process and never exits by itself: must be contained by the process limit and end on time_limit or wall_time_limit with no process left behind on the host; NEVER run outside the sandbox.
#include <unistd.h>

int main(void) {
    for (;;) fork();
}
