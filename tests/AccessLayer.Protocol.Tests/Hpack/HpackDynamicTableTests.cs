using System.Text;
using AccessLayer.Protocol.Hpack;
using FsCheck;
using FsCheck.Fluent;
using static AccessLayer.Protocol.Tests.Hpack.HpackTestUtil;

namespace AccessLayer.Protocol.Tests.Hpack;

public class HpackDynamicTableTests
{
    [Fact]
    public void Insert_counts_32_plus_name_plus_value_and_puts_newest_first()
    {
        var table = new HpackDynamicTable(4096);
        table.Insert("custom-key"u8, "custom-header"u8);
        table.Insert("a"u8, ""u8);
        Assert.Equal(2, table.Count);
        Assert.Equal(55 + 33, table.Size);
        Assert.Equal([("a", ""), ("custom-key", "custom-header")], TableEntries(table));
    }

    [Fact]
    public void Insert_evicts_oldest_until_the_new_entry_fits()
    {
        var table = new HpackDynamicTable(100);
        table.Insert("a"u8, "1"u8);   // 34
        table.Insert("b"u8, "2"u8);   // 34
        table.Insert("c"u8, "33"u8);  // 35 -> 103 > 100, evict a
        Assert.Equal([("c", "33"), ("b", "2")], TableEntries(table));
        Assert.Equal(69, table.Size);
    }

    [Fact]
    public void Insert_of_entry_larger_than_table_empties_it()
    {
        var table = new HpackDynamicTable(64);
        table.Insert("a"u8, "1"u8);
        table.Insert("name"u8, Encoding.ASCII.GetBytes(new string('x', 40)));
        Assert.Equal(0, table.Count);
        Assert.Equal(0, table.Size);
    }

    [Fact]
    public void SetMaxSize_evicts_and_zero_clears()
    {
        var table = new HpackDynamicTable(4096);
        table.Insert("a"u8, "1"u8);
        table.Insert("b"u8, "2"u8);
        table.SetMaxSize(40);
        Assert.Equal([("b", "2")], TableEntries(table));
        table.SetMaxSize(0);
        Assert.Equal(0, table.Count);
        table.Insert("c"u8, "3"u8);
        Assert.Equal(0, table.Count);
    }

    [Fact]
    public void Insert_may_name_an_entry_it_evicts()
    {
        // §4.4: the referenced name must survive the eviction that makes room for the new entry.
        var table = new HpackDynamicTable(80);
        table.Insert("first-name"u8, "v"u8);                    // 43
        table.Insert(table.GetName(0), "replacement-value"u8);  // 59: 102 > 80 evicts the named entry
        Assert.Equal([("first-name", "replacement-value")], TableEntries(table));
        Assert.Equal(59, table.Size);
    }

    [Fact]
    public void Find_returns_newest_full_and_name_matches()
    {
        var table = new HpackDynamicTable(4096);
        table.Insert("k"u8, "1"u8);
        table.Insert("k"u8, "2"u8);
        table.Insert("other"u8, "1"u8);
        var hash = HpackStaticTable.HashName("k"u8);
        Assert.Equal(2, table.Find("k"u8, hash, "1"u8, out var nameIndex));
        Assert.Equal(1, nameIndex);
        Assert.Equal(-1, table.Find("k"u8, hash, "3"u8, out nameIndex));
        Assert.Equal(1, nameIndex);
        Assert.Equal(-1, table.Find("x"u8, HpackStaticTable.HashName("x"u8), "1"u8, out nameIndex));
        Assert.Equal(-1, nameIndex);
    }

    [Fact]
    public void Buffers_stop_growing_once_warm()
    {
        var table = new HpackDynamicTable(4096);
        var random = new Random(7);
        for (var i = 0; i < 2000; i++)
        {
            table.Insert(Encoding.ASCII.GetBytes($"n{random.Next(50)}"), new byte[random.Next(300)]);
        }

        var allocated = table.AllocatedBytes;
        for (var i = 0; i < 5000; i++)
        {
            table.Insert(Encoding.ASCII.GetBytes($"n{random.Next(50)}"), new byte[random.Next(300)]);
        }

        Assert.Equal(allocated, table.AllocatedBytes);
        Assert.True(allocated <= (2 * 4096) + (128 * 16 * 2), $"table holds {allocated} bytes");
    }

    [Fact]
    public void Random_operations_match_a_list_model()
    {
        // Entries as (nameLength, valueLength) pairs; max size changes interleaved.
        var operation = Gen.Choose(0, 9).SelectMany(kind => Gen.Choose(0, 200).SelectMany(a => Gen.Choose(0, 200).Select(b => (kind, a, b))));
        Prop.ForAll(operation.ArrayOf().ToArbitrary(), operations =>
        {
            var table = new HpackDynamicTable(512);
            var model = new List<(string Name, string Value)>();
            var max = 512;
            var serial = 0;
            foreach (var (kind, a, b) in operations)
            {
                if (kind == 0)
                {
                    max = a * 5;
                    table.SetMaxSize(max);
                }
                else if (kind == 1 && model.Count > 0)
                {
                    // A literal naming an existing entry: the name span points into the table itself.
                    var index = a % model.Count;
                    var value = new string('r', b);
                    model.Insert(0, (model[index].Name, value));
                    table.Insert(table.GetName(index), Encoding.ASCII.GetBytes(value));
                }
                else
                {
                    var name = $"{serial++}:" + new string('n', a % 60);
                    var value = new string((char)('a' + (serial % 26)), b);
                    model.Insert(0, (name, value));
                    table.Insert(Encoding.ASCII.GetBytes(name), Encoding.ASCII.GetBytes(value));
                }

                while (model.Sum(e => 32 + e.Name.Length + e.Value.Length) > max)
                {
                    model.RemoveAt(model.Count - 1);
                }

                Assert.Equal(model, TableEntries(table));
                Assert.Equal(model.Sum(e => 32 + e.Name.Length + e.Value.Length), table.Size);
            }
        }).QuickCheckThrowOnFailure();
    }
}
