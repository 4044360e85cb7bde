/* The "plain program" of bench_spawn: linked with libc only; its main() writes one byte on
 * fd 1 (the handshake the parent times) and exits. */
#include <unistd.h>

int main(void)
{
	return write(1, "!", 1) == 1 ? 0 : 1;
}
