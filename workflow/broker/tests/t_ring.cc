// Ring: reserve / complete / free order and full detection.
#include <cstdio>
#include <cstring>

#include "check.h"
#include "ring.h"

int main() {
  sl::Ring ring(3, 256);
  CHECK(ring.ok());
  CHECK(ring.slots() == 3 && ring.slot_bytes() == 256);
  size_t a = 9, b = 9, c = 9, d = 9;
  CHECK(ring.reserve(&a) && a == 0);
  CHECK(ring.reserve(&b) && b == 1);
  CHECK(ring.reserve(&c) && c == 2);
  CHECK(!ring.reserve(&d));  // full
  CHECK(ring.in_use() == 3);
  std::memset(ring.slot_ptr(2), 7, 256);  // slots are writable and disjoint
  CHECK(ring.slot_ptr(1) + 256 == ring.slot_ptr(2));

  sl::SlotInfo s;
  CHECK(!ring.wait_front(&s, 10));  // nothing complete yet
  ring.complete(b, 5, 500, true);   // out of order: front (a) still pending
  CHECK(!ring.wait_front(&s, 10));
  ring.complete(a, 3, 300, true);
  CHECK(ring.wait_front(&s, 10) && s.index == 0 && s.num_msg == 3 && s.bytes == 300 && s.valid);
  ring.free_front();
  CHECK(ring.wait_front(&s, 10) && s.index == 1 && s.num_msg == 5);
  ring.free_front();
  CHECK(ring.in_use() == 1);
  char* const freed_last = ring.slot_ptr(1);
  CHECK(ring.reserve(&d) && d == 0);  // wraps around
  CHECK(ring.slot_ptr(d) == freed_last);  // into the buffer freed last (still cached), not slot 0's own
  ring.complete(c, 0, 0, false);      // abandoned slot is still freed in order
  CHECK(ring.wait_front(&s, 10) && s.index == 2 && !s.valid);
  ring.free_front();
  ring.free_front();  // front (slot 0) not complete: no-op
  CHECK(ring.in_use() == 1);
  ring.complete(d, 1, 64, true);
  CHECK(ring.wait_front(&s, 10) && s.index == 0);
  ring.free_front();
  CHECK(ring.in_use() == 0);

  // A ring that never holds more than one batch at a time receives every batch into the same buffer.
  sl::Ring warm(8, 128);
  char* first = nullptr;
  for (int i = 0; i < 20; ++i) {
    size_t k = 0;
    CHECK(warm.reserve(&k) && k == size_t(i % 8));
    if (i == 0) first = warm.slot_ptr(k);
    CHECK(warm.slot_ptr(k) == first);
    warm.complete(k, 1, 64, true);
    CHECK(warm.wait_front(&s, 10) && s.index == k);
    warm.free_front();
  }

  sl::Ring empty(0, 256);
  CHECK(!empty.ok());
  std::puts("t_ring ok");
  return 0;
}
