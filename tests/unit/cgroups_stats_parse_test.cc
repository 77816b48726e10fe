// The usage files behind `events --stats`.
#include <gtest/gtest.h>

#include "cgroups/stats_parse.h"

namespace guise::cgroups {
namespace {

TEST(CgroupsStatsParse, IdLists) {
  EXPECT_EQ(parse_id_list("0-3,8,10-11\n"), (std::vector<uint16_t>{0, 1, 2, 3, 8, 10, 11}));
  EXPECT_EQ(parse_id_list("0"), (std::vector<uint16_t>{0}));
  EXPECT_TRUE(parse_id_list("").empty());
  EXPECT_EQ(parse_id_list("x,2"), (std::vector<uint16_t>{2}));
}

TEST(CgroupsStatsParse, NumberLists) {
  EXPECT_EQ(parse_number_list("12 0 7 \n"), (std::vector<uint64_t>{12, 0, 7}));
}

TEST(CgroupsStatsParse, BlkioV1) {
  auto e = parse_blkio_v1("8:0 Read 4096\n8:0 Write 512\n8:0 Total 4608\nTotal 4608\n");
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0].major, 8u);
  EXPECT_EQ(e[0].minor, 0u);
  EXPECT_EQ(e[0].op, "Read");
  EXPECT_EQ(e[0].value, 4096u);
  EXPECT_EQ(e[2].op, "Total");
}

TEST(CgroupsStatsParse, IoStatV2) {
  auto s = parse_io_stat("254:0 rbytes=1048576 wbytes=4096 rios=16 wios=1 dbytes=0 dios=0\n7:0 rbytes=0 wbytes=0 rios=0 wios=0\n");
  ASSERT_EQ(s.service_bytes.size(), 4u);
  EXPECT_EQ(s.service_bytes[0].major, 254u);
  EXPECT_EQ(s.service_bytes[0].op, "Read");
  EXPECT_EQ(s.service_bytes[0].value, 1048576u);
  EXPECT_EQ(s.service_bytes[1].op, "Write");
  ASSERT_EQ(s.serviced.size(), 4u);
  EXPECT_EQ(s.serviced[0].value, 16u);
}

TEST(CgroupsStatsParse, HugetlbSizes) {
  EXPECT_EQ(hugetlb_size_of("hugetlb.2MB.limit_in_bytes"), "2MB");
  EXPECT_EQ(hugetlb_size_of("hugetlb.1GB.rsvd.max"), "1GB");
  EXPECT_EQ(hugetlb_size_of("memory.max"), "");
  EXPECT_EQ(hugetlb_size_of("hugetlb..max"), "");
}

}  // namespace
}  // namespace guise::cgroups
