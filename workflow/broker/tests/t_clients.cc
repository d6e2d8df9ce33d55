// ClientTable: each publisher's count moves only with its own messages; an entry lives while a connection
// or the ACK thread holds it; a client has at most one ACK thread.
#include <cstdio>
#include <thread>
#include <vector>

#include "check.h"
#include "clients.h"

int main() {
  sl::ClientTable t;
  auto a = t.hold(1);
  auto b = t.hold(2);
  CHECK(t.size() == 2);
  CHECK(t.add_written(1, 100) && t.add_written(2, 7) && t.add_written(1, 5));
  CHECK(a->written.load() == 105 && b->written.load() == 7);
  CHECK(!t.add_written(3, 1));  // never held: counted nowhere

  // Two connections of one publisher share one counter.
  auto a2 = t.hold(1);
  CHECK(a2.get() == a.get());

  // One ACK thread per client; the claim holds the entry after every connection is gone.
  auto ack = t.claim_ack_thread(1);
  CHECK(ack && ack.get() == a.get());
  CHECK(!t.claim_ack_thread(1));
  CHECK(!t.claim_ack_thread(3));  // nothing holds client 3
  t.release(1);
  t.release(1);
  CHECK(t.add_written(1, 1) && ack->written.load() == 106);
  t.release_ack_thread(1);
  CHECK(!t.add_written(1, 1) && t.size() == 1);
  t.release(2);
  CHECK(t.size() == 0);

  // Concurrent holders and writers: exact totals per client.
  std::vector<std::thread> ths;
  for (uint32_t c = 10; c < 14; ++c) t.hold(c);
  for (int i = 0; i < 8; ++i)
    ths.emplace_back([&t, i] {
      const uint32_t c = 10 + uint32_t(i % 4);
      for (int k = 0; k < 10000; ++k) {
        t.hold(c);
        t.add_written(c, 1);
        t.release(c);
      }
    });
  for (auto& th : ths) th.join();
  for (uint32_t c = 10; c < 14; ++c) {
    auto e = t.hold(c);
    CHECK(e->written.load() == 20000);
  }
  std::puts("t_clients ok");
  return 0;
}
