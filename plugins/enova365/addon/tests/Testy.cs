// Tests of the add-on's plain logic: the shared contract examples (plugins/enova365/contract/) run
// through the same classes the service uses, and the rules one by one. A tiny runner prints each
// failure and then exactly "N passed, N failed". Usage: mono testy.exe <contract dir>
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using OrderLink.Enova365.Logika;

namespace OrderLink.Enova365.Testy
{
    /// <summary>The runner.</summary>
    public static class Program
    {
        static int passed, failed;

        static void Check(string name, Action test)
        {
            try
            {
                test();
                passed++;
            }
            catch (Exception e)
            {
                failed++;
                Console.WriteLine("FAILED " + name + ": " + e.Message);
            }
        }

        static void Eq(object expected, object actual, string what)
        {
            if (!Equals(expected, actual)) throw new Exception(what + ": expected " + expected + ", got " + actual);
        }

        static void True(bool cond, string what)
        {
            if (!cond) throw new Exception(what);
        }

        /// <summary>Runs every test; exit code 1 when one failed.</summary>
        public static int Main(string[] args)
        {
            if (args.Length != 1 || !Directory.Exists(args[0]))
            {
                Console.WriteLine("usage: testy.exe <contract examples dir>");
                return 2;
            }
            var files = Directory.GetFiles(args[0], "*.json").OrderBy(f => f).ToList();
            Check("the contract folder has examples", () => True(files.Count >= 5, "only " + files.Count + " examples"));
            foreach (var f in files) Check("example " + Path.GetFileName(f), () => Example(File.ReadAllText(f)));
            Rules();
            Console.WriteLine(passed + " passed, " + failed + " failed");
            return failed == 0 ? 0 : 1;
        }

        /// <summary>Documents held in memory; writes stamp the example's time and caller.</summary>
        sealed class Memory : IDokumenty
        {
            public readonly List<DokumentZO> Docs;
            public string Now, Caller;
            public HashSet<long> Conflicts = new HashSet<long>();

            public Memory(List<DokumentZO> docs) { Docs = docs; }

            public DokumentZO Znajdz(long? id, string obcy)
            {
                return Docs.FirstOrDefault(d => id.HasValue ? d.ID == id.Value : (d.ObcyNumer ?? "") == obcy);
            }

            public DokumentZO Zapisz(DokumentZO d, int value)
            {
                if (Conflicts.Contains(d.ID)) throw new Soneta.Business.RowConflictException();
                d.Potwierdzenie = Slowniki.Potwierdzenia[value];
                d.Zmieniono = Now;
                d.Operator = Caller;
                return d;
            }
        }

        static void Example(string text)
        {
            var ex = (Dictionary<string, object>)Json.Parse(text);
            var method = (string)ex["method"];
            var now = (string)ex["now"];
            DateTimeOffset teraz;
            True(Czas.TryParse(now, out teraz), "now is not a time");
            var docs = (List<DokumentZO>)Json.ToObject(ex["documents"], typeof(List<DokumentZO>));
            object expected;
            var wantsException = ex.TryGetValue("exception", out expected);
            if (!wantsException) expected = ex["answer"];
            object actual;
            try
            {
                switch (method)
                {
                    case "PobierzZamowienia":
                        {
                            var pars = (ParametryZamowien)Json.ToObject(ex["request"], typeof(ParametryZamowien));
                            actual = Json.FromObject(Stronicowanie.Strona(Argumenty.Zapytanie(pars), docs, teraz));
                            if (!wantsException) Json.ToObject(expected, typeof(WynikZamowien));
                            break;
                        }
                    case "UstawPotwierdzenia":
                        {
                            var pars = (ParametryZmian)Json.ToObject(ex["request"], typeof(ParametryZmian));
                            var mem = new Memory(docs) { Now = now, Caller = (string)ex["operator"] };
                            actual = Json.FromObject(Zapisywanie.Wykonaj(Argumenty.Zmiany(pars), mem));
                            if (!wantsException) Json.ToObject(expected, typeof(WynikiZmian));
                            break;
                        }
                    case "PobierzPotwierdzenia":
                        actual = Json.FromObject(Slowniki.Potwierdzenia);
                        break;
                    default:
                        throw new Exception("unknown method " + method);
                }
            }
            catch (NieprawidlowyArgument e)
            {
                if (!wantsException) throw new Exception("unexpected refusal: " + e.Message);
                Eq(expected, e.Message, "exception message");
                return;
            }
            if (wantsException) throw new Exception("expected the exception " + expected);
            if (!Json.Same(expected, actual))
                throw new Exception("answer differs:\n  expected " + Json.Write(expected) + "\n  actual   " + Json.Write(actual));
        }

        static DokumentZO Doc(long id, string zmieniono, string op = "Jan", string potw = "Niepotwierdzony", string stan = "Zatwierdzony")
        {
            return new DokumentZO
            {
                ID = id, NumerPelny = "ZO/" + id, Data = "2026-11-30", Stan = stan, Potwierdzenie = potw,
                ObcyNumer = id.ToString(), Zmieniono = zmieniono, Operator = op,
            };
        }

        static void Refused(Action a, string argument)
        {
            try
            {
                a();
            }
            catch (NieprawidlowyArgument e)
            {
                True(e.Message.StartsWith("Nieprawidłowy argument '" + argument + "'"), e.Message);
                return;
            }
            throw new Exception("accepted an invalid " + argument);
        }

        static void Rules()
        {
            Check("names and numbers of enums", () =>
            {
                Eq(2, Slowniki.Indeks(Slowniki.Potwierdzenia, " zaakceptowany "), "by name");
                Eq(3, Slowniki.Indeks(Slowniki.Potwierdzenia, "3"), "by number");
                Eq(-1, Slowniki.Indeks(Slowniki.Potwierdzenia, "4"), "out of range");
                Eq(-1, Slowniki.Indeks(Slowniki.Potwierdzenia, "-1"), "negative");
                Eq(-1, Slowniki.Indeks(Slowniki.Stany, null), "null");
            });
            Check("compare-and-set: the target already set wins over everything", () =>
            {
                var r = ZasadaZapisu.Rozstrzygnij("ZO/1", "Anulowany", "Potwierdzony", "Potwierdzony", "Odrzucony");
                Eq(Decyzja.BezZmian, r.Decyzja, "decision");
            });
            Check("compare-and-set: a stale expectation is refused as changed by someone else", () =>
            {
                var r = ZasadaZapisu.Rozstrzygnij("ZO/1", "Bufor", "Zaakceptowany", "Potwierdzony", "Niepotwierdzony");
                Eq(Decyzja.Odmowa, r.Decyzja, "decision");
                True(r.Opis.Contains("zmieniony przez innego użytkownika"), r.Opis);
                var ok = ZasadaZapisu.Rozstrzygnij("ZO/1", "Bufor", "Niepotwierdzony", "Potwierdzony", "0");
                Eq(Decyzja.Zapisz, ok.Decyzja, "expected as a number");
                var none = ZasadaZapisu.Rozstrzygnij("ZO/1", "Zatwierdzony", "Zaakceptowany", "Potwierdzony", null);
                Eq(Decyzja.Zapisz, none.Decyzja, "no expectation");
            });
            Check("cancelled and locked documents refuse a new value; unknown values are refused", () =>
            {
                True(ZasadaZapisu.Rozstrzygnij("ZO/1", "Anulowany", "Niepotwierdzony", "Potwierdzony", null).Opis.Contains("anulowany"), "cancelled");
                True(ZasadaZapisu.Rozstrzygnij("ZO/1", "2", "Niepotwierdzony", "Potwierdzony", null).Opis.Contains("zablokowany"), "locked by number");
                True(ZasadaZapisu.Rozstrzygnij("ZO/1", "Bufor", "Niepotwierdzony", "Wysłany", null).Opis.StartsWith("Nieznana wartość Potwierdzenie"), "unknown");
                True(ZasadaZapisu.Rozstrzygnij("ZO/1", "Bufor", "Niepotwierdzony", "Potwierdzony", "Jakiś").Opis.StartsWith("Nieznana wartość OczekiwanePotwierdzenie"), "unknown expected");
            });
            Check("a failed save is that document's refusal, never the batch's", () =>
            {
                var mem = new Memory(new List<DokumentZO> { Doc(1, "2026-11-30T09:00:00+01:00"), Doc(2, "2026-11-30T09:00:00+01:00") })
                { Now = "2026-11-30T10:00:00+01:00", Caller = "orderlink" };
                mem.Conflicts.Add(1);
                var zmiany = Argumenty.Zmiany(new ParametryZmian { Zmiany = new List<Zmiana> {
                    new Zmiana { ID = 1, Potwierdzenie = "Potwierdzony" }, new Zmiana { ID = 2, Potwierdzenie = "Potwierdzony" } } });
                var w = Zapisywanie.Wykonaj(zmiany, mem).Wyniki;
                Eq(false, w[0].Success, "first");
                True(w[0].Description.Contains("zmieniony przez innego użytkownika (konflikt zapisu)"), w[0].Description);
                Eq("Niepotwierdzony", w[0].Potwierdzenie, "first unchanged");
                Eq(true, w[1].Success && w[1].Zapisano, "second written");
                Eq("orderlink", mem.Docs[1].Operator, "operator of the write");
            });
            Check("other save failures name the document and the failure", () =>
            {
                var d = ZasadaZapisu.ZWyjatku("ZO/7", new Soneta.Business.AccessWriteDeniedException());
                Eq("Brak prawa zapisu dokumentu ZO/7.", d, "no right");
                True(ZasadaZapisu.ZWyjatku("ZO/7", new Soneta.Business.ReadOnlyException()).Contains("tylko do odczytu"), "read-only");
                True(ZasadaZapisu.ZWyjatku("ZO/7", new InvalidOperationException("x")).Contains("InvalidOperationException"), "other");
            });
            Check("invalid arguments are refused by name", () =>
            {
                Refused(() => Argumenty.Zapytanie(new ParametryZamowien { Limit = 0 }), "Limit");
                Refused(() => Argumenty.Zapytanie(new ParametryZamowien { ZmienioneOd = "wczoraj" }), "ZmienioneOd");
                Refused(() => Argumenty.Zapytanie(new ParametryZamowien { UtworzoneOd = "30.11.2026" }), "UtworzoneOd");
                Refused(() => Argumenty.Zapytanie(new ParametryZamowien { PoID = -1 }), "PoID");
                Refused(() => Argumenty.Zapytanie(new ParametryZamowien { ObcyNumery = new List<string> { "1", null } }), "ObcyNumery");
                Refused(() => Argumenty.Zmiany(new ParametryZmian()), "Zmiany");
                Refused(() => Argumenty.Zmiany(new ParametryZmian { Zmiany = Enumerable.Range(0, 101).Select(i => new Zmiana { ID = i, Potwierdzenie = "0" }).ToList() }), "Zmiany");
                Refused(() => Argumenty.Zmiany(new ParametryZmian { Zmiany = new List<Zmiana> { new Zmiana { ID = 1 } } }), "Zmiany[0].Potwierdzenie");
                Eq(100, Argumenty.Zapytanie(null).Limit, "default limit");
                Eq(500, Argumenty.Zapytanie(new ParametryZamowien { Limit = 500 }).Limit, "largest limit");
            });
            Check("the feed orders by (Zmieniono, ID) and starts strictly after its position", () =>
            {
                var docs = new List<DokumentZO> {
                    Doc(5, "2026-11-30T10:00:01+01:00"), Doc(3, "2026-11-30T10:00:00+01:00"),
                    Doc(9, "2026-11-30T09:00:00Z"), Doc(4, "2026-11-30T10:00:00.900+01:00") };
                var q = Argumenty.Zapytanie(new ParametryZamowien { ZmienioneOd = "2026-11-30T10:00:00+01:00", PoID = 3 });
                var ids = Stronicowanie.Strona(q, docs, DateTimeOffset.Now).Zamowienia.Select(z => z.ID).ToList();
                // 09:00Z is 10:00+01:00: same second as the position, higher ID; 4's fraction is cut.
                Eq("4,9,5", string.Join(",", ids), "order");
            });
            Check("the listing orders by ID and honours the limit", () =>
            {
                var docs = Enumerable.Range(1, 7).Select(i => Doc(8 - i, "2026-11-30T10:00:00+01:00")).ToList();
                var q = Argumenty.Zapytanie(new ParametryZamowien { PoID = 2, Limit = 3 });
                var page = Stronicowanie.Strona(q, docs, DateTimeOffset.Now);
                Eq("3,4,5", string.Join(",", page.Zamowienia.Select(z => z.ID)), "page");
                Eq(true, page.CzyJestWiecej, "more");
            });
            Check("PominOperatora leaves out the caller's own last writes, whatever the case", () =>
            {
                var docs = new List<DokumentZO> { Doc(1, "2026-11-30T10:00:00+01:00", "OrderLink"), Doc(2, "2026-11-30T10:00:00+01:00", "Jan") };
                var q = Argumenty.Zapytanie(new ParametryZamowien { PominOperatora = "orderlink" });
                Eq("2", string.Join(",", Stronicowanie.Strona(q, docs, DateTimeOffset.Now).Zamowienia.Select(z => z.ID)), "ids");
            });
            Check("times are written with their offset, to the second", () =>
            {
                var t = new DateTimeOffset(2026, 7, 3, 8, 0, 12, 250, TimeSpan.FromHours(2));
                Eq("2026-07-03T08:00:12+02:00", Czas.Format(t), "format");
                DateTime d;
                True(Czas.TryParseDate("2026-11-02T00:00:00", out d) && d == new DateTime(2026, 11, 2), "date with a time");
                True(!Czas.TryParseDate("2.11.2026", out d), "not a date");
            });
            Check("the service answers the vocabulary in enum order", () =>
            {
                var api = new ZamowieniaApi(null);
                Eq("Niepotwierdzony,Potwierdzony,Zaakceptowany,Odrzucony", string.Join(",", api.PobierzPotwierdzenia()), "names");
            });
        }
    }
}
