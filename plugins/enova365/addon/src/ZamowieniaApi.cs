// The thin Soneta layer: the service registered for MethodInvoker and the Dynamic WebAPI, reading
// ZOs through the trade module and writing Potwierdzenie one transaction per document. Everything
// that does not need Soneta lives in Logika/.
using System;
using System.Collections.Generic;
using System.Linq;
using OrderLink.Enova365;
using OrderLink.Enova365.Logika;
using Soneta.Business;
using Soneta.Handel;
using Soneta.Types;
using Soneta.Types.DynamicApi;

[assembly: Service(typeof(IZamowieniaApi), typeof(ZamowieniaApi), ServiceScope.Session, Published = true)]
[assembly: DynamicApiController(typeof(IZamowieniaApi), typeof(ZamowieniaApi))]

namespace OrderLink.Enova365
{
    /// <summary>The orderlink order service: POST /api/ZamowieniaApi/{Method} (Dynamic WebAPI) or
    /// MethodInvoker "OrderLink.Enova365.IZamowieniaApi, OrderLink.Enova365".</summary>
    public interface IZamowieniaApi
    {
        /// <summary>The change feed or a listing of ZO documents.</summary>
        [DynamicApiMethod(HttpMethods.POST, nameof(PobierzZamowienia))]
        WynikZamowien PobierzZamowienia(ParametryZamowien pars);

        /// <summary>Sets Potwierdzenie on up to 100 documents, each on its own.</summary>
        [DynamicApiMethod(HttpMethods.POST, nameof(UstawPotwierdzenia))]
        WynikiZmian UstawPotwierdzenia(ParametryZmian pars);

        /// <summary>The Potwierdzenie values.</summary>
        [DynamicApiMethod(HttpMethods.POST, nameof(PobierzPotwierdzenia))]
        string[] PobierzPotwierdzenia();
    }

    /// <summary>The service, created by the WebAPI server for each logged-in session.</summary>
    public class ZamowieniaApi : IZamowieniaApi
    {
        /// <summary>The definition symbol of a customer order.</summary>
        public const string SymbolZO = "ZO";

        readonly Session session;

        /// <summary>The WebAPI server passes the caller's session.</summary>
        public ZamowieniaApi(Session session)
        {
            this.session = session;
        }

        /// <inheritdoc />
        public WynikZamowien PobierzZamowienia(ParametryZamowien pars)
        {
            var q = Argumenty.Zapytanie(pars);
            var teraz = DateTimeOffset.Now;
            using (var s = session.Login.CreateSession(true, false))
            {
                var hm = s.GetHandel();
                var kandydaci = Wybierz(hm, q).Select(Migawka);
                return Stronicowanie.Strona(q, kandydaci, teraz);
            }
        }

        /// <inheritdoc />
        public WynikiZmian UstawPotwierdzenia(ParametryZmian pars)
        {
            var zmiany = Argumenty.Zmiany(pars);
            using (var s = session.Login.CreateSession(false, false))
            {
                return Zapisywanie.Wykonaj(zmiany, new DokumentySesji(s));
            }
        }

        /// <inheritdoc />
        public string[] PobierzPotwierdzenia()
        {
            return (string[])Slowniki.Potwierdzenia.Clone();
        }

        /// <summary>The ZOs the query can match, narrowed on the server by database fields only:
        /// definition, date, foreign numbers and (in a listing) ID. Change time, fulfilment and the
        /// last operator come from the change log and relations, so they are checked per row.</summary>
        static IEnumerable<DokumentHandlowy> Wybierz(HandelModule hm, Zapytanie q)
        {
            var def = hm.DefDokHandlowych.WgSymbolu[SymbolZO];
            RowCondition warunek = new FieldCondition.Equal("Definicja", def);
            if (q.UtworzoneOd.HasValue)
                warunek &= new FieldCondition.GreaterEqual("Data", new Date(q.UtworzoneOd.Value));
            if (!q.ZmienioneOd.HasValue && q.PoID > 0)
                warunek &= new FieldCondition.Greater("ID", (int)Math.Min(q.PoID, int.MaxValue));
            if (q.ObcyNumery != null)
            {
                RowCondition ktorykolwiek = null;
                foreach (var o in q.ObcyNumery)
                {
                    RowCondition jeden = new FieldCondition.Equal("Obcy.Numer", o);
                    ktorykolwiek = ktorykolwiek == null ? jeden : ktorykolwiek | jeden;
                }
                if (ktorykolwiek == null) return Enumerable.Empty<DokumentHandlowy>();
                warunek &= ktorykolwiek;
            }
            return hm.DokHandlowe.WgDaty[warunek];
        }

        /// <summary>A snapshot of a document for the plain logic.</summary>
        internal static DokumentZO Migawka(DokumentHandlowy d)
        {
            var zmiana = d.LastChangeInfo;
            var czas = zmiana != null ? new DateTimeOffset(zmiana.Time) : new DateTimeOffset((DateTime)d.Data);
            var cechy = new Dictionary<string, string>();
            foreach (var nazwa in d.Features.Keys)
            {
                var v = d.Features[nazwa];
                if (v != null) cechy[nazwa] = Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture);
            }
            var sprzedaz = new List<string>();
            foreach (var r in d.PodrzedneRelacje)
            {
                var k = r.Podrzedny.Definicja.Kategoria;
                if (k == KategoriaHandlowa.Sprzedaż || k == KategoriaHandlowa.Paragon)
                    sprzedaz.Add(r.Podrzedny.Numer.NumerPelny);
            }
            return new DokumentZO
            {
                ID = d.ID,
                Guid = d.Guid.ToString(),
                NumerPelny = d.Numer.NumerPelny,
                Data = Czas.FormatDate((DateTime)d.Data),
                Stan = d.Stan.ToString(),
                Potwierdzenie = d.Potwierdzenie.ToString(),
                ObcyNumer = d.Obcy.Numer ?? "",
                Cechy = cechy,
                DokumentySprzedazy = sprzedaz,
                Zmieniono = Czas.Format(czas),
                Operator = zmiana != null && zmiana.Operator != null ? zmiana.Operator.Name : null,
            };
        }

        /// <summary>The documents of one batch in one session: each write its own transaction,
        /// saved at once.</summary>
        sealed class DokumentySesji : IDokumenty
        {
            readonly Session s;
            readonly HandelModule hm;
            readonly Dictionary<long, DokumentHandlowy> znalezione = new Dictionary<long, DokumentHandlowy>();

            public DokumentySesji(Session s)
            {
                this.s = s;
                hm = s.GetHandel();
            }

            public DokumentZO Znajdz(long? id, string obcyNumer)
            {
                var def = hm.DefDokHandlowych.WgSymbolu[SymbolZO];
                RowCondition warunek = new FieldCondition.Equal("Definicja", def);
                warunek &= id.HasValue
                    ? (RowCondition)new FieldCondition.Equal("ID", (int)Math.Min(id.Value, int.MaxValue))
                    : new FieldCondition.Equal("Obcy.Numer", obcyNumer);
                var d = hm.DokHandlowe.WgDaty[warunek].FirstOrDefault();
                if (d == null) return null;
                znalezione[d.ID] = d;
                return Migawka(d);
            }

            public DokumentZO Zapisz(DokumentZO dokument, int potwierdzenie)
            {
                var d = znalezione[dokument.ID];
                using (var t = s.Logout(true))
                {
                    d.Potwierdzenie = (PotwierdzenieDokumentuHandlowego)potwierdzenie;
                    t.Commit();
                }
                s.Save();
                return Migawka(d);
            }
        }
    }
}
