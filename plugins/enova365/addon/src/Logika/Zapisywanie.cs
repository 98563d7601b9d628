// One UstawPotwierdzenia batch: each change decided and saved on its own, so that a refusal or a
// failed save is that document's result, never the batch's.
using System;
using System.Collections.Generic;

namespace OrderLink.Enova365.Logika
{
    /// <summary>Where the documents of a batch are found and written (Soneta, or a test's memory).</summary>
    public interface IDokumenty
    {
        /// <summary>The document with this id or foreign number, or null.</summary>
        DokumentZO Znajdz(long? id, string obcyNumer);
        /// <summary>Writes Potwierdzenie (index into Slowniki.Potwierdzenia) in its own transaction and
        /// saves; throws what the save throws. Returns the document as saved.</summary>
        DokumentZO Zapisz(DokumentZO dokument, int potwierdzenie);
    }

    /// <summary>Runs a batch of changes.</summary>
    public static class Zapisywanie
    {
        /// <summary>One result per change, in request order.</summary>
        public static WynikiZmian Wykonaj(IList<ZmianaDoZapisu> zmiany, IDokumenty dokumenty)
        {
            var wyniki = new List<WynikZmiany>(zmiany.Count);
            foreach (var z in zmiany) wyniki.Add(Jedna(z, dokumenty));
            return new WynikiZmian { Wyniki = wyniki };
        }

        static WynikZmiany Jedna(ZmianaDoZapisu z, IDokumenty dokumenty)
        {
            var d = dokumenty.Znajdz(z.ID, z.ObcyNumer);
            if (d == null)
                return new WynikZmiany { ID = z.ID, ObcyNumer = z.ObcyNumer, Success = false, Description = ZasadaZapisu.NieZnaleziono(z.ID, z.ObcyNumer) };
            var r = ZasadaZapisu.Rozstrzygnij(d.NumerPelny, d.Stan, d.Potwierdzenie, z.Potwierdzenie, z.OczekiwanePotwierdzenie);
            switch (r.Decyzja)
            {
                case Decyzja.BezZmian:
                    return Wynik(d, true, null, false);
                case Decyzja.Odmowa:
                    return Wynik(d, false, r.Opis, false);
                default:
                    try
                    {
                        var zapisany = dokumenty.Zapisz(d, Slowniki.Indeks(Slowniki.Potwierdzenia, z.Potwierdzenie));
                        return Wynik(zapisany, true, null, true);
                    }
                    catch (Exception e)
                    {
                        return Wynik(d, false, ZasadaZapisu.ZWyjatku(d.NumerPelny, e), false);
                    }
            }
        }

        static WynikZmiany Wynik(DokumentZO d, bool ok, string opis, bool zapisano)
        {
            return new WynikZmiany
            {
                ID = d.ID,
                ObcyNumer = d.ObcyNumer ?? "",
                Success = ok,
                Description = opis,
                Potwierdzenie = d.Potwierdzenie,
                Zmieniono = d.Zmieniono,
                Zapisano = zapisano,
            };
        }
    }
}
